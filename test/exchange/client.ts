/** A minimal signed client for the exchange tests (the real adapter lives in activities/venue). */
import { signedHeaders, type ApiKey } from '../../exchange/auth';
import type { PaperExchange } from '../../exchange/server';

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface CallOptions {
  key?: ApiKey;
  /** Raw body text sent as is (for malformed JSON tests). */
  raw?: string;
  timestampMs?: number;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function call(ex: PaperExchange, method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<Answer> {
  const key = opts.key ?? ex.keys[0]!;
  const text = opts.raw ?? (body === undefined ? '' : JSON.stringify(body));
  const headers = { 'content-type': 'application/json', ...signedHeaders(key, method, path, text, opts.timestampMs ?? Date.now()), ...opts.headers };
  const res = await fetch(`${ex.url}${path}`, {
    method,
    headers,
    body: text.length > 0 ? text : undefined,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const payload = (await res.json()) as Record<string, unknown>;
  return { status: res.status, headers: res.headers, body: payload };
}

export async function admin(ex: PaperExchange, method: string, path: string, body?: unknown, token = ex.adminToken): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${ex.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

export const errorOf = (a: Answer): { code: string; message: string; field?: string; value?: string } =>
  a.body.error as { code: string; message: string; field?: string; value?: string };

export const orderOf = (a: Answer): Record<string, unknown> & { venueOrderId: string; status: string; clientOrderId: string } =>
  a.body.order as Record<string, unknown> & { venueOrderId: string; status: string; clientOrderId: string };

export const TEST_KEY: ApiKey = { keyId: 'test', secret: 'test-secret-0123456789abcdef' };
export const OTHER_KEY: ApiKey = { keyId: 'other', secret: 'other-secret-0123456789abcdef' };
