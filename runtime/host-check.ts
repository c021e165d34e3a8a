/**
 * The Host header check that stops DNS rebinding: a page on another origin whose name resolves to
 * this machine reaches a loopback server under its own name, so a server answers only the names
 * it is known by. Defaults: the bind host (unless a wildcard), localhost, 127.0.0.1 and [::1], on
 * the server's own port. A configured entry `name` matches that name on the server's port or with
 * no port (behind a proxy on 80/443); `name:port` matches that port only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

/** A host name, IPv4 address or bracketed IPv6 address, with an optional port. */
export const ALLOWED_HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

interface HostPort {
  name: string;
  port: number | null;
}

function split(text: string): HostPort | null {
  const t = text.trim().toLowerCase();
  if (!ALLOWED_HOST_RE.test(t)) return null;
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(t)!;
  return { name: m[1]!, port: m[2] === undefined ? null : Number(m[2]) };
}

const bracketed = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host).toLowerCase();

export interface HostPolicy {
  /** The interface the server listens on. */
  bindHost: string;
  /** The port it listens on (after a port-0 bind, the one it got). */
  port: number;
  /** Extra names from configuration (`name` or `name:port`). */
  allowed: readonly string[];
}

/** Whether a request's Host header names this server. A missing or malformed header is refused. */
export function hostAllowed(header: string | undefined, policy: HostPolicy): boolean {
  if (header === undefined) return false;
  const offered = split(header);
  if (offered === null) return false;
  const defaults = [...LOOPBACK_NAMES, ...(WILDCARDS.has(policy.bindHost) ? [] : [bracketed(policy.bindHost)])];
  if (defaults.includes(offered.name) && (offered.port === policy.port || (offered.port === null && policy.port === 80))) return true;
  return policy.allowed.some((entry) => {
    const e = split(entry);
    if (e === null || e.name !== offered.name) return false;
    return e.port !== null ? offered.port === e.port : offered.port === null || offered.port === policy.port;
  });
}

/** Splits a comma-separated list of host names; every bad entry is returned in `bad`. */
export function parseAllowedHosts(text: string): { hosts: string[]; bad: string[] } {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return { hosts: entries.filter((e) => split(e) !== null), bad: entries.filter((e) => split(e) === null) };
}

/** Answers 421 when the Host header does not name this server; true when it did (and nothing was sent). */
export function refuseForeignHost(req: IncomingMessage, res: ServerResponse, policy: HostPolicy): boolean {
  if (hostAllowed(req.headers.host, policy)) return false;
  const body = JSON.stringify({ error: 'MisdirectedRequest', message: 'this server does not answer to that Host name; add it to the allowed hosts if it is yours' });
  res.writeHead(421, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close', 'Cache-Control': 'no-store' });
  res.end(body);
  req.resume();
  return true;
}
