/**
 * The dashboard's own settings, read from the environment by its entry point (runtime/config.ts
 * holds the worker's; these are the dashboard's alone). Every bad variable is reported at
 * once with its name and value; the token is never echoed.
 */
import { ErrorType, InvalidInput, type FieldProblem } from '../domain/errors';
import { parseAllowedHosts } from '../runtime/host-check';

export const DASHBOARD_ENV = {
  host: 'DASHBOARD_HOST',
  port: 'DASHBOARD_PORT',
  token: 'DASHBOARD_TOKEN',
  temporalUiUrl: 'TEMPORAL_UI_URL',
  allowedHosts: 'DASHBOARD_ALLOWED_HOSTS',
} as const;

export interface DashboardSettings {
  /** Interface to listen on; loopback unless the operator chooses otherwise. */
  host: string;
  port: number;
  /** Bearer token for halt and resume; null leaves the dashboard read-only. */
  token: string | null;
  /** Base of the Temporal Web UI, without a trailing slash. */
  temporalUiUrl: string;
  /** Host names answered besides the bind host and loopback names (`name` or `name:port`). */
  allowedHosts: string[];
}

export const DASHBOARD_DEFAULTS = { host: '127.0.0.1', port: 8080, temporalUiUrl: 'http://127.0.0.1:8233' } as const;

/** A token shorter than this is too easy to guess for something that halts trading. */
export const MIN_TOKEN_LENGTH = 16;

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/;

/**
 * The Web UI the dashboard links orders to: TEMPORAL_UI_URL when set; otherwise, when the worker
 * runs its own dev server, that server's UI port (TEMPORAL_UI_PORT); else the default.
 */
export function temporalUiUrlFor(env: Readonly<Record<string, string | undefined>>, settings: Pick<DashboardSettings, 'temporalUiUrl'>, localDevServerUiPort: number | null): string {
  if (env[DASHBOARD_ENV.temporalUiUrl]?.trim()) return settings.temporalUiUrl;
  return localDevServerUiPort !== null ? `http://127.0.0.1:${localDevServerUiPort}` : settings.temporalUiUrl;
}

export function loadDashboardSettings(env: Readonly<Record<string, string | undefined>>): DashboardSettings {
  const problems: FieldProblem[] = [];
  const read = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };

  const hostText = read(DASHBOARD_ENV.host);
  let host: string = DASHBOARD_DEFAULTS.host;
  if (hostText !== null) {
    if (HOST_RE.test(hostText)) host = hostText.replace(/^\[(.*)\]$/, '$1');
    else problems.push({ field: DASHBOARD_ENV.host, value: hostText, problem: 'must be a host name or an IP address, e.g. 127.0.0.1' });
  }

  const portText = read(DASHBOARD_ENV.port);
  let port: number = DASHBOARD_DEFAULTS.port;
  if (portText !== null) {
    const n = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (Number.isInteger(n) && n >= 0 && n <= 65_535) port = n;
    else problems.push({ field: DASHBOARD_ENV.port, value: portText, problem: 'must be a whole number from 0 to 65535 (0 picks a free port)' });
  }

  const tokenText = read(DASHBOARD_ENV.token);
  let token: string | null = null;
  if (tokenText !== null) {
    if (tokenText.length >= MIN_TOKEN_LENGTH && /^[\x21-\x7e]+$/.test(tokenText)) token = tokenText;
    else problems.push({ field: DASHBOARD_ENV.token, value: '***', problem: `must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces` });
  }

  const uiText = read(DASHBOARD_ENV.temporalUiUrl);
  let temporalUiUrl: string = DASHBOARD_DEFAULTS.temporalUiUrl;
  if (uiText !== null) {
    let ok = false;
    try {
      const u = new URL(uiText);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '' && u.username === '' && u.password === '';
    } catch {
      ok = false;
    }
    if (ok) temporalUiUrl = uiText.replace(/\/+$/, '');
    else problems.push({ field: DASHBOARD_ENV.temporalUiUrl, value: uiText, problem: 'must be an http(s) URL without query, fragment or credentials, e.g. http://127.0.0.1:8233' });
  }

  const hostsText = read(DASHBOARD_ENV.allowedHosts);
  let allowedHosts: string[] = [];
  if (hostsText !== null) {
    const { hosts, bad } = parseAllowedHosts(hostsText);
    if (bad.length === 0) allowedHosts = hosts;
    else problems.push({ field: DASHBOARD_ENV.allowedHosts, value: hostsText, problem: `must be host names separated by commas, each optionally with :port (bad: ${bad.join(', ')})` });
  }

  if (problems.length > 0) throw new InvalidInput(problems, ErrorType.InvalidConfig);
  return { host, port, token, temporalUiUrl, allowedHosts };
}
