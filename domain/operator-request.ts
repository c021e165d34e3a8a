/**
 * Who acts and why. Every acting surface (CLI flags, dashboard actions, workflow signals, the
 * operator journal, an adopted reconciliation) takes the operator's name and a reason under the
 * same limits and refuses a bad one with the same words. The limits are what the records keep.
 */
export const MAX_OPERATOR_LENGTH = 100;
export const MAX_REASON_LENGTH = 1_000;

/**
 * Characters that steer a terminal or reorder text rather than print: C0 (tab and newline too:
 * a name or a reason is one line), DEL, C1 and the bidirectional overrides and isolates. A reason
 * holding CR and ANSI escapes could overprint a journal line.
 */
export const CONTROL_CHARACTER_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * What is wrong with an operator's name or a reason, or null when nothing is. The length is of
 * the text as given; surfaces keep it trimmed.
 */
export function operatorTextProblem(value: unknown, max: number): string | null {
  if (typeof value !== 'string' || value.trim().length === 0) return 'is required and must be non-empty text';
  if (value.length > max) return `must be at most ${max} characters`;
  const control = CONTROL_CHARACTER_RE.exec(value);
  if (control !== null) return `must not contain control characters (found U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at position ${control.index + 1})`;
  return null;
}
