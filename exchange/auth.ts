/**
 * Request signing (API.md, "Authentication"): lowercase hex HMAC-SHA256 with the key's secret
 * over timestamp + METHOD + path-with-query + body. Pure apart from node:crypto, so clients
 * may import `signRequest` and the header names.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ExchangeError } from './errors';

export const KEY_HEADER = 'x-paper-key';
export const TIMESTAMP_HEADER = 'x-paper-timestamp';
export const SIGNATURE_HEADER = 'x-paper-signature';

export interface ApiKey {
  keyId: string;
  secret: string;
}

export function signRequest(secret: string, timestampMs: number | string, method: string, pathWithQuery: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}${method.toUpperCase()}${pathWithQuery}${body}`).digest('hex');
}

/** The three headers for a signed request. */
export function signedHeaders(key: ApiKey, method: string, pathWithQuery: string, body: string, nowMs: number): Record<string, string> {
  const ts = String(Math.trunc(nowMs));
  return { [KEY_HEADER]: key.keyId, [TIMESTAMP_HEADER]: ts, [SIGNATURE_HEADER]: signRequest(key.secret, ts, method, pathWithQuery, body) };
}

export const generateSecret = (): string => randomBytes(32).toString('hex');

const HEX64 = /^[0-9a-f]{64}$/;
const TS_RE = /^\d{1,16}$/;

export interface SigningHeaders {
  keyId: string;
  secret: string;
  timestamp: string;
  signature: string;
}

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * The checks that need only the headers: all three present, a known key, a fresh timestamp. A
 * server runs them before it reads a body, so an unauthenticated client cannot make it wait for
 * or buffer one. Each failure is 401; messages never contain a secret.
 */
export function checkSigningHeaders(keys: ReadonlyMap<string, string>, headers: Record<string, string | string[] | undefined>, nowMs: number, windowMs: number): SigningHeaders {
  const keyId = header(headers, KEY_HEADER);
  const ts = header(headers, TIMESTAMP_HEADER);
  const sig = header(headers, SIGNATURE_HEADER);
  if (!keyId || !ts || !sig) {
    const missing = [!keyId && 'X-Paper-Key', !ts && 'X-Paper-Timestamp', !sig && 'X-Paper-Signature'].filter(Boolean).join(', ');
    throw new ExchangeError(401, 'AUTH_MISSING', `missing signing header(s): ${missing}`);
  }
  const secret = keys.get(keyId);
  if (secret === undefined) throw new ExchangeError(401, 'AUTH_UNKNOWN_KEY', 'unknown API key');
  if (!TS_RE.test(ts) || Math.abs(Number(ts) - nowMs) > windowMs) {
    throw new ExchangeError(401, 'AUTH_STALE_TIMESTAMP', `timestamp must be epoch milliseconds within ${windowMs} ms of the server clock`);
  }
  return { keyId, secret, timestamp: ts, signature: sig };
}

/** The signature over the request, body included (constant-time compare); 401 when it does not match. */
export function checkSignature(signing: SigningHeaders, method: string, pathWithQuery: string, body: string): string {
  const expected = Buffer.from(signRequest(signing.secret, signing.timestamp, method, pathWithQuery, body), 'hex');
  const given = HEX64.test(signing.signature) ? Buffer.from(signing.signature, 'hex') : null;
  if (!given || !timingSafeEqual(given, expected)) throw new ExchangeError(401, 'AUTH_BAD_SIGNATURE', 'signature does not match the request');
  return signing.keyId;
}

/** Both checks at once, for callers that hold the whole request: returns the key id. */
export function verifyRequest(
  keys: ReadonlyMap<string, string>,
  headers: Record<string, string | string[] | undefined>,
  method: string,
  pathWithQuery: string,
  body: string,
  nowMs: number,
  windowMs: number,
): string {
  return checkSignature(checkSigningHeaders(keys, headers, nowMs, windowMs), method, pathWithQuery, body);
}

/** Admin bearer token check: missing -> 401, wrong -> 403 (constant-time compare). */
export function verifyAdmin(token: string, header: string | undefined): void {
  const m = header ? /^Bearer (.+)$/.exec(header) : null;
  if (!m) throw new ExchangeError(401, 'ADMIN_TOKEN_MISSING', 'admin endpoint needs Authorization: Bearer <token>');
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ExchangeError(403, 'ADMIN_TOKEN_INVALID', 'admin token is not valid');
}
