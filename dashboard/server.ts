/**
 * The operator dashboard over node:http: the page, one JSON endpoint per panel, and two actions.
 *
 * - Reading needs nothing; it is served on 127.0.0.1 unless told otherwise.
 * - POST /api/halt, /api/resume and /api/kill need `Authorization: Bearer <token>` (no token configured:
 *   actions are off). A missing header is 401, a wrong token 403, compared in constant time.
 *   The body is JSON {operator, reason, sessionId?, requestId?} (a halt also takes
 *   cancelOrders?: boolean, the kill switch flatten?: boolean); every bad field is named. The kill switch halts the session(s) and
 *   cancels every working order, including one whose submission is under way.
 *   Each action is journaled (operator_actions) under `dashboard-<requestId>` before it acts. With
 *   the desk control (DashboardTemporal.control) the key travels in the update to every running
 *   session and order in flight (sessionId narrows to one session), each answers, and the reply is
 *   the answer: 200 applied, 409 refused, 502 when a target did not answer; without it the sessions
 *   recorded as running are signalled (202). What it reached is added to the row. The same
 *   requestId with other content is 409 and acts on nothing; an exact replay answers the first
 *   request's outcome and acts on nothing again.
 * - Every request whose Host header is not one of the dashboard's names is 421 before anything
 *   is read (runtime/host-check.ts), so a rebinding page cannot read the records.
 * - No browser can send the Authorization header cross-site without a CORS preflight, which this
 *   server never grants; the page's CSP allows only its own script and style.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listSessions, loadOperatorAction, recordOperatorAction, recordOperatorActionOutcome, type Db } from '../db';
import { RecordConflict } from '../db/errors';
import type { HaltRequest, KillSwitchRequest, OperatorRequest } from '../workflows/api';
import { describeValue, InvalidInput, type FieldProblem } from '../domain/errors';
import { dashboardJournalKey, parseSessionWorkflowId } from '../domain/ids';
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH, operatorTextProblem } from '../domain/operator-request';
import type { Money } from '../domain/money';
import type { RiskLimits } from '../domain/risk-limits';
import { refuseForeignHost } from '../runtime/host-check';
import { journalOutcomeOf, type DeskAction, type DeskOutcome, type DeskRequest } from '../runtime/desk-control';
import { createDashboardApi, type QuoteSource } from './api';
import { PAGE_HTML, PAGE_SCRIPT, PAGE_STYLE } from './page';
import { APPROVAL_ACTIONS, approvalsPanel, decideFromDashboard, parseApprovalBody, type DashboardApprovals } from './approvals';

/** How the dashboard reaches running sessions; null when no Temporal client is configured. */
export interface DashboardTemporal {
  signalHalt(workflowId: string, request: HaltRequest): Promise<void>;
  signalResume(workflowId: string, request: OperatorRequest): Promise<void>;
  signalKillSwitch(workflowId: string, request: KillSwitchRequest): Promise<void>;
  /**
   * The desk-wide control with an answer (runtime/desk-control.ts controlDesk): used when given.
   * Absent (older wiring): the action is signalled to the sessions recorded as running.
   */
  control?(action: DeskAction, request: DeskRequest, scope: { sessionId?: string }): Promise<DeskOutcome>;
}

export interface DashboardOptions {
  db: Db;
  limits: RiskLimits;
  temporal: DashboardTemporal | null;
  /** Levels of automation: semi-automatic orders awaiting approval, approve / reject (absent or null: none reachable). */
  approvals?: DashboardApprovals | null;
  /** Bearer token for actions; null or empty: read-only. */
  token: string | null;
  temporalUiUrl: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /**
   * Host names the dashboard answers besides the bind host, localhost, 127.0.0.1 and [::1] on its
   * port (DASHBOARD_ALLOWED_HOSTS); any other Host header is 421 (DNS rebinding).
   */
  allowedHosts?: readonly string[];
  /** Temporal namespace for Web UI links; default "default". */
  namespace?: string;
  /** Default "paper". */
  account?: string;
  /** Zone of the trading day; default UTC. */
  timeZone?: string;
  /** Live quotes for freshness and marks; null: stored marks only. */
  quotes?: QuoteSource | null;
  /** The venue's cash, for the percent-of-equity limits; null: those limits show unmeasured. */
  cash?: (() => Promise<Money | null>) | null;
  /** How often the page refreshes; default 3000 ms. */
  refreshMs?: number;
  clock?: () => number;
  /** Failed requests are reported here; default console.error. */
  log?: (message: string) => void;
}

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 8 * 1024;
const ACTIONS = { '/api/halt': 'HALT', '/api/resume': 'RESUME', '/api/kill': 'KILL_SWITCH' } as const;
type Action = (typeof ACTIONS)[keyof typeof ACTIONS];
const BODY_FIELDS = ['operator', 'reason', 'sessionId', 'requestId'] as const;
const KILL_FIELDS = [...BODY_FIELDS, 'flatten'] as const;
const HALT_FIELDS = [...BODY_FIELDS, 'cancelOrders'] as const;
const REQUEST_ID_RE = /^[A-Za-z0-9][A-Za-z0-9-]{7,63}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: FieldProblem[] = [],
  ) {
    super(message);
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Compares in time independent of where the strings differ (both hashed to the same length first). */
export function tokenMatches(expected: string, offered: string): boolean {
  return timingSafeEqual(digest(expected), digest(offered));
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...extra });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), extra);

function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(new HttpError(413, 'PayloadTooLarge', `the body must be at most ${MAX_BODY_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'PayloadTooLarge', `the body must be at most ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface ActionRequest extends OperatorRequest {
  sessionId: string | null;
  requestId: string;
  /** Kill switch only: also close every position. */
  flatten: boolean;
  /** Halt only: also cancel the working orders (the kill switch always does). */
  cancelOrders: boolean;
}

/** Checks an action body and names every bad field, unknown ones included. */
export function parseActionBody(value: unknown, action: Action = 'HALT'): ActionRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInput([{ field: 'body', value, problem: 'must be a JSON object with operator and reason' }]);
  }
  const b = value as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const known: readonly string[] = action === 'KILL_SWITCH' ? KILL_FIELDS : action === 'HALT' ? HALT_FIELDS : BODY_FIELDS;
  for (const k of Object.keys(b)) {
    if (!known.includes(k)) problems.push({ field: k, value: b[k], problem: `is not a known field (known: ${known.join(', ')})` });
  }
  let flatten = false;
  if (b.flatten !== undefined && known.includes('flatten')) {
    if (typeof b.flatten === 'boolean') flatten = b.flatten;
    else problems.push({ field: 'flatten', value: b.flatten, problem: 'must be true or false' });
  }
  let cancelOrders = false;
  if (b.cancelOrders !== undefined && known.includes('cancelOrders')) {
    if (typeof b.cancelOrders === 'boolean') cancelOrders = b.cancelOrders;
    else problems.push({ field: 'cancelOrders', value: b.cancelOrders, problem: 'must be true or false' });
  }
  const text = (field: 'operator' | 'reason', max: number): string => {
    const v = b[field];
    const problem = operatorTextProblem(v, max);
    if (problem !== null) problems.push({ field, value: v, problem });
    return typeof v === 'string' ? v.trim() : '';
  };
  const operator = text('operator', MAX_OPERATOR_LENGTH);
  const reason = text('reason', MAX_REASON_LENGTH);
  let sessionId: string | null = null;
  if (b.sessionId !== undefined && b.sessionId !== null) {
    try {
      if (typeof b.sessionId !== 'string') throw new Error();
      parseSessionWorkflowId(b.sessionId);
      sessionId = b.sessionId;
    } catch {
      problems.push({ field: 'sessionId', value: b.sessionId, problem: 'must be a session workflow ID such as session-ema-mr-2026-01-05' });
    }
  }
  let requestId: string = randomUUID();
  if (b.requestId !== undefined) {
    if (typeof b.requestId === 'string' && REQUEST_ID_RE.test(b.requestId)) requestId = b.requestId;
    else problems.push({ field: 'requestId', value: b.requestId, problem: 'must be 8-64 letters, digits or "-" (e.g. a UUID)' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return { operator, reason, sessionId, requestId, flatten, cancelOrders };
}

export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? (() => Date.now());
  const token = options.token && options.token.length > 0 ? options.token : null;
  const namespace = options.namespace ?? 'default';
  const refreshMs = options.refreshMs ?? 3_000;
  const log = options.log ?? ((m: string) => console.error(m));
  const api = createDashboardApi({
    db: options.db,
    limits: options.limits,
    account: options.account ?? 'paper',
    timeZone: options.timeZone ?? 'UTC',
    temporalUiUrl: options.temporalUiUrl.replace(/\/+$/, ''),
    namespace,
    quotes: options.quotes ?? null,
    cash: options.cash ?? null,
    clock,
  });

  const panels: Record<string, () => Promise<unknown>> = {
    '/api/state': api.state,
    '/api/positions': api.positions,
    '/api/pnl': api.pnl,
    '/api/orders': api.orders,
    '/api/fills': () => api.fills(),
    '/api/risk': api.risk,
    '/api/halts': api.halts,
    '/api/alerts': api.alerts,
    '/api/freshness': api.freshness,
    '/api/approvals': () => approvalsPanel(options.approvals ?? null),
    '/api/config': async () => ({
      actionsEnabled: token !== null,
      temporalConnected: options.temporal !== null,
      temporalUiUrl: options.temporalUiUrl,
      namespace,
      refreshMs,
    }),
  };

  function authorize(req: IncomingMessage): void {
    if (token === null) throw new HttpError(403, 'ActionsDisabled', 'actions are disabled: the dashboard was started without DASHBOARD_TOKEN');
    const header = req.headers.authorization;
    if (header === undefined || header.trim() === '') throw new HttpError(401, 'Unauthorized', 'an action needs the header Authorization: Bearer <DASHBOARD_TOKEN>');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new HttpError(401, 'Unauthorized', 'the Authorization header must be "Bearer <DASHBOARD_TOKEN>"');
    if (!tokenMatches(token, m[1]!)) throw new HttpError(403, 'Forbidden', 'the token is not the dashboard token');
  }

  /** An action's body: the token first, then JSON sent as such (400 naming what is wrong otherwise). */
  async function authorizedJson(req: IncomingMessage): Promise<unknown> {
    authorize(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const raw = await readBody(req);
    if (type !== 'application/json') throw new HttpError(400, 'NotJson', `the body must be JSON sent as Content-Type: application/json (got ${describeValue(type || null)})`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      throw new HttpError(400, 'NotJson', `the body is not valid JSON (${(e as Error).message})`);
    }
    return parsed;
  }

  async function act(req: IncomingMessage, action: Action): Promise<{ status: number; body: unknown }> {
    const parsed = await authorizedJson(req);
    const request = parseActionBody(parsed, action);
    const temporal = options.temporal;
    if (temporal === null) {
      throw new HttpError(503, 'TemporalUnavailable', 'no Temporal client: start the dashboard with TEMPORAL_ADDRESS set to reach the running sessions; nothing was signalled');
    }
    // Journal first, under the request ID: a reused ID with other content is refused before any
    // session hears of it, and an exact replay answers what the first request did.
    const journal = { workflowId: dashboardJournalKey(request.requestId), sequence: 0 };
    let recorded;
    try {
      recorded = await recordOperatorAction(options.db, {
        action,
        operator: request.operator,
        reason: request.reason,
        ...journal,
        details: { via: 'dashboard', target: request.sessionId ?? 'every running session', ...(action === 'KILL_SWITCH' ? { flatten: request.flatten } : {}), ...(action === 'HALT' && request.cancelOrders ? { cancelOrders: true } : {}) },
        at: clock(),
      });
    } catch (e) {
      if (e instanceof RecordConflict) throw new HttpError(409, 'RequestIdReused', `requestId ${request.requestId} was already used for a different action; nothing was signalled`);
      throw e;
    }
    if (!recorded.inserted) {
      const d = (await loadOperatorAction(options.db, journal))?.details ?? {};
      const list = (v: unknown, separator: string): string[] => (typeof v === 'string' && v !== '' ? v.split(separator) : []);
      return {
        status: typeof d.outcome === 'string' && d.outcome.startsWith('REFUSED') ? 409 : 200,
        body: { action, replayed: true, signalled: list(d.signalled, ','), failed: list(d.failed, '; '), outcome: d.outcome ?? null, journal },
      };
    }
    if (temporal.control) return controlled(temporal.control, action, request, journal);
    const targets = request.sessionId !== null ? [request.sessionId] : (await listSessions(options.db, { limit: 50 })).filter((s) => s.status === 'RUNNING' || s.status === 'HALTED').map((s) => s.sessionId);
    if (targets.length === 0) {
      await recordOperatorActionOutcome(options.db, journal, { outcome: 'no running session', signalled: null, failed: null });
      throw new HttpError(409, 'NoRunningSession', 'no session is recorded as running: name one with sessionId');
    }
    const signal = (workflowId: string, r: OperatorRequest): Promise<void> =>
      action === 'HALT' ? temporal.signalHalt(workflowId, request.cancelOrders ? { ...r, cancelOrders: true } : r) : action === 'RESUME' ? temporal.signalResume(workflowId, r) : temporal.signalKillSwitch(workflowId, { ...r, flatten: request.flatten });
    const outcomes = await Promise.all(
      targets.map(async (workflowId) => {
        try {
          await signal(workflowId, { operator: request.operator, reason: request.reason });
          return { workflowId, ok: true as const, error: null };
        } catch (e) {
          return { workflowId, ok: false as const, error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
    const signalled = outcomes.filter((o) => o.ok).map((o) => o.workflowId);
    const failed = outcomes.filter((o) => !o.ok);
    await recordOperatorActionOutcome(options.db, journal, {
      outcome: signalled.length === 0 ? 'not delivered' : failed.length === 0 ? 'delivered' : 'partly delivered',
      signalled: signalled.join(',') || null,
      failed: failed.map((f) => `${f.workflowId}: ${f.error}`).join('; ') || null,
    });
    const body = { action, signalled, failed, journal };
    return { status: signalled.length === 0 ? 502 : 202, body };
  }

  // ---- levels of automation: approve / reject a semi-automatic order (token required, journaled under the request ID first) ----
  async function decideOrder(req: IncomingMessage, kind: (typeof APPROVAL_ACTIONS)[keyof typeof APPROVAL_ACTIONS]): Promise<{ status: number; body: unknown }> {
    const parsed = await authorizedJson(req);
    const request = parseApprovalBody(parsed);
    const approvals = options.approvals ?? null;
    if (approvals === null) throw new HttpError(503, 'TemporalUnavailable', 'no Temporal client: start the dashboard with TEMPORAL_ADDRESS set to reach the orders; nothing was sent');
    return decideFromDashboard(options.db, approvals, kind, request, clock());
  }

  /**
   * The action through the desk control, journaled already under `journal`: every target answers,
   * the answer is added to the row, and the reply is 200 applied, 409 refused (nothing running, or
   * every target refused), 502 when some target did not answer.
   */
  async function controlled(control: NonNullable<DashboardTemporal['control']>, action: Action, request: ActionRequest, journal: { workflowId: string; sequence: number }): Promise<{ status: number; body: unknown }> {
    let outcome: DeskOutcome;
    try {
      outcome = await control(
        action,
        {
          operator: request.operator,
          reason: request.reason,
          journalKey: journal.workflowId,
          ...(action === 'KILL_SWITCH' ? { flatten: request.flatten } : {}),
          ...(action === 'HALT' && request.cancelOrders ? { cancelOrders: true } : {}),
        },
        request.sessionId !== null ? { sessionId: request.sessionId } : {},
      );
    } catch (e) {
      const refused = e instanceof InvalidInput;
      await recordOperatorActionOutcome(options.db, journal, { outcome: `${refused ? 'REFUSED' : 'FAILED'}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500) });
      throw e;
    }
    await recordOperatorActionOutcome(options.db, journal, journalOutcomeOf(outcome));
    const status = outcome.outcome === 'APPLIED' ? 200 : outcome.outcome === 'REFUSED' ? 409 : 502;
    return { status, body: { ...outcome, journal } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (refuseForeignHost(req, res, { bindHost: host, port: (server.address() as AddressInfo).port, allowed: options.allowedHosts ?? [] })) return;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    } catch {
      // A target such as "//" is the client's mistake: a 400, not a failure to read the records.
      return sendJson(res, 400, { error: 'BadRequest', message: `the request target ${describeValue(req.url)} is not a valid path` });
    }
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path in ACTIONS) {
      if (method !== 'POST') return sendJson(res, 405, { error: 'MethodNotAllowed', message: `${path} takes POST` }, { Allow: 'POST' });
      const { status, body } = await act(req, ACTIONS[path as keyof typeof ACTIONS]);
      return sendJson(res, status, body);
    }
    if (path in APPROVAL_ACTIONS) {
      if (method !== 'POST') return sendJson(res, 405, { error: 'MethodNotAllowed', message: `${path} takes POST` }, { Allow: 'POST' });
      const { status, body } = await decideOrder(req, APPROVAL_ACTIONS[path as keyof typeof APPROVAL_ACTIONS]);
      return sendJson(res, status, body);
    }
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: 'MethodNotAllowed', message: `${path} is read-only: use GET` }, { Allow: 'GET, HEAD' });
    if (path === '/' || path === '/index.html') {
      return send(res, 200, 'text/html; charset=utf-8', PAGE_HTML, {
        'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      });
    }
    if (path === '/dashboard.js') return send(res, 200, 'text/javascript; charset=utf-8', PAGE_SCRIPT);
    if (path === '/dashboard.css') return send(res, 200, 'text/css; charset=utf-8', PAGE_STYLE);
    if (path === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS);
      return void res.end();
    }
    const panel = panels[path];
    if (panel) return sendJson(res, 200, await panel());
    return sendJson(res, 404, { error: 'NotFound', message: `no such page: ${path}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.code, message: e.message, ...(e.problems.length > 0 ? { problems: e.problems } : {}) });
      if (e instanceof InvalidInput) {
        return sendJson(res, 400, { error: 'InvalidInput', message: e.message, problems: e.problems.map((p) => ({ field: p.field, problem: p.problem, value: describeValue(p.value) })) });
      }
      log(`dashboard: ${req.method} ${req.url} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      sendJson(res, 500, { error: 'Internal', message: 'the dashboard could not read the records; see its log' });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      })),
  };
}
