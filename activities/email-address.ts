/**
 * What the alert mailer takes as an email address, for the config and the mailer alike: a plain
 * `local@domain`. The local part is letters, digits and "." "_" "%" "+" "-" (no dot first, last
 * or twice in a row); the domain is DNS labels, at least two, or "localhost". Nodemailer reads
 * quotes, commas, semicolons, colons, parentheses and backslashes as address syntax (display
 * names, groups, comments), so an address holding one would be mailed as something else; the
 * rarer RFC 5322 forms (quoted local parts, "'" "$" "{" ...) are refused rather than guessed at.
 */
const LOCAL_RE = /^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*$/;
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isEmailAddress(text: unknown): text is string {
  if (typeof text !== 'string' || text.length > 254) return false;
  const at = text.lastIndexOf('@');
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (at < 1 || local.length > 64 || !LOCAL_RE.test(local)) return false;
  if (domain === 'localhost') return true;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((l) => LABEL_RE.test(l));
}
