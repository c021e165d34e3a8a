/**
 * Who acts and why. Every acting surface (CLI flags, dashboard actions, workflow signals, the
 * operator journal, an adopted reconciliation) takes the operator's name and a reason under the
 * same limits and refuses a bad one with the same words. The limits are what the records keep.
 */
export const MAX_OPERATOR_LENGTH = 100;
export const MAX_REASON_LENGTH = 1_000;

/**
 * What is wrong with an operator's name or a reason, or null when nothing is. The length is of
 * the text as given; surfaces keep it trimmed.
 */
export function operatorTextProblem(value: unknown, max: number): string | null {
  if (typeof value !== 'string' || value.trim().length === 0) return 'is required and must be non-empty text';
  if (value.length > max) return `must be at most ${max} characters`;
  return null;
}
