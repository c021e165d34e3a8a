/**
 * The paper exchange's HTTP front (API.md): signed /v1 trading endpoints over the in-process
 * engine, per-key token-bucket rate limits, fault injection, bearer-token admin endpoints,
 * and group-committed JSON snapshots. `startPaperExchange` runs it in-process for tests,
 * the venue contract suite and drills; exchange/main.ts is the CLI around it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { validateKey } from '../domain/ids';
import type { Outcome } from '../domain/market';
import { parseMicros } from '../domain/money';
import { type ApiKey, checkSignature, checkSigningHeaders, generateSecret, verifyAdmin } from './auth';
import {
  DEFAULT_RATE_LIMIT,
  DEFAULT_SERVER_LIMITS,
  defaultEngineConfig,
  MIN_SECRET_LENGTH,
  type EngineConfig,
  type FaultConfig,
  type RateLimitConfig,
  type ServerLimits,
  validateEngineConfig,
  validateRateLimit,
  validateServerLimits,
} from './config';
import { type ExchangeOrder, PaperEngine, type SnapshotView } from './engine';
import { ExchangeError, notFound } from './errors';
import { FaultInjector } from './faults';
import { TokenBuckets } from './ratelimit';
import { SnapshotStore } from './store';
import {
  balanceJson,
  checked,
  cursorText,
  DEFAULT_FILLS_PAGE,
  fillJson,
  historyJson,
  integerField,
  marketJson,
  MAX_DEPTH,
  MAX_FILLS_PAGE,
  orderJson,
  parseCursor,
  parseJsonObject,
  parsePlaceOrder,
  queryInteger,
  rejectUnknownFields,
  rejectUnknownQuery,
  requireField,
  settlementJson,
  snapshotJson,
} from './wire';

export interface PaperExchangeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  seed?: number;
  /** Directory for state.json; null or absent keeps state in memory only. */
  dataDir?: string | null;
  /** Trading keys, one account each. Default: one generated key `dev`. */
  keys?: ApiKey[];
  /** Admin bearer token; generated when absent (read it from the returned handle). */
  adminToken?: string;
  /** Market clock (epoch ms). Default Date.now. */
  clock?: () => number;
  /** Clock for signature freshness and rate limits. Default Date.now. */
  wallClock?: () => number;
  /** Step the engine on a timer (default: true unless `clock` is given). */
  autoAdvance?: boolean;
  /** Overrides of the engine configuration (markets, fill model, step length, starting cash). */
  engine?: Partial<Omit<EngineConfig, 'seed'>>;
  faults?: Partial<FaultConfig>;
  /** Mean simulated latency added to every /v1 response (log-normal); 0 = none. */
  latencyMeanMs?: number;
  rateLimit?: Partial<RateLimitConfig>;
  /** Signature timestamp window, ms (default 30000). */
  timestampWindowMs?: number;
  /** Request body limit in bytes (default 65536); a larger Content-Length is refused before reading. */
  maxBodyBytes?: number;
  /** Header and request timeouts and the connection cap (DEFAULT_SERVER_LIMITS). */
  limits?: Partial<ServerLimits>;
  /** Access log sink; never receives secrets. Default: silent. */
  log?: (line: string) => void;
}

export interface PaperExchangeAdmin {
  setFaults(patch: Partial<FaultConfig>): FaultConfig;
  resetFaults(): FaultConfig;
  adjustPosition(keyId: string, marketId: string, delta: number): { marketId: string; quantity: number };
  adjustCash(keyId: string, deltaMicros: number): void;
  resolveMarket(marketId: string, outcome: Outcome): void;
  /** Steps the engine up to the market clock now (for hand-driven clocks). */
  advance(): void;
  /** Resolves once every change so far is written to the data dir. */
  flush(): Promise<void>;
}

export interface PaperExchange {
  url: string;
  port: number;
  keys: ApiKey[];
  adminToken: string;
  engine: PaperEngine;
  admin: PaperExchangeAdmin;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  mutated?: boolean;
  /** A new order was created by this request (candidate for the drop-after-accept fault). */
  createdOrder?: boolean;
  headers?: Record<string, string>;
}

function validateOptions(o: PaperExchangeOptions): void {
  const problems: FieldProblem[] = [];
  if (o.port !== undefined && (!Number.isSafeInteger(o.port) || o.port < 0 || o.port > 65_535)) {
    problems.push({ field: 'port', value: o.port, problem: 'must be an integer between 0 and 65535' });
  }
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host.length === 0)) problems.push({ field: 'host', value: o.host, problem: 'must be a host name or address' });
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) problems.push({ field: 'seed', value: o.seed, problem: 'must be an integer' });
  if (o.timestampWindowMs !== undefined && (!Number.isSafeInteger(o.timestampWindowMs) || o.timestampWindowMs <= 0)) {
    problems.push({ field: 'timestampWindowMs', value: o.timestampWindowMs, problem: 'must be a positive integer' });
  }
  if (o.maxBodyBytes !== undefined && (!Number.isSafeInteger(o.maxBodyBytes) || o.maxBodyBytes < 256)) {
    problems.push({ field: 'maxBodyBytes', value: o.maxBodyBytes, problem: 'must be an integer of at least 256' });
  }
  if (o.latencyMeanMs !== undefined && (typeof o.latencyMeanMs !== 'number' || !Number.isFinite(o.latencyMeanMs) || o.latencyMeanMs < 0)) {
    problems.push({ field: 'latencyMeanMs', value: o.latencyMeanMs, problem: 'must be a non-negative number' });
  }
  if (o.adminToken !== undefined && (typeof o.adminToken !== 'string' || o.adminToken.length < MIN_SECRET_LENGTH)) {
    problems.push({ field: 'adminToken', value: '<redacted>', problem: `must be at least ${MIN_SECRET_LENGTH} characters` });
  }
  const seen = new Set<string>();
  (o.keys ?? []).forEach((k, i) => {
    try {
      validateKey(k.keyId, `keys[${i}].keyId`);
    } catch (e) {
      if (e instanceof InvalidInput) problems.push(...e.problems);
      else throw e;
    }
    if (seen.has(k.keyId)) problems.push({ field: `keys[${i}].keyId`, value: k.keyId, problem: 'is listed twice' });
    seen.add(k.keyId);
    if (typeof k.secret !== 'string' || k.secret.length < MIN_SECRET_LENGTH) problems.push({ field: `keys[${i}].secret`, value: '<redacted>', problem: `must be at least ${MIN_SECRET_LENGTH} characters` });
  });
  if (problems.length > 0) throw new InvalidInput(problems);
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function decodeSegment(raw: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw ExchangeError.invalid(field, raw, 'is not valid percent-encoding');
  }
}

/** The request target as a URL; null when it is not one (e.g. "//"), which a client must hear as a 400, not a crash. */
function parseTarget(target: string): URL | null {
  try {
    return new URL(target, 'http://exchange.invalid');
  } catch {
    return null;
  }
}

export async function startPaperExchange(options: PaperExchangeOptions = {}): Promise<PaperExchange> {
  validateOptions(options);
  const clock = options.clock ?? Date.now;
  const wallClock = options.wallClock ?? Date.now;
  const seed = options.seed ?? 1;
  const keys: ApiKey[] = options.keys ?? [{ keyId: 'dev', secret: generateSecret() }];
  const keyMap = new Map(keys.map((k) => [k.keyId, k.secret]));
  const adminToken = options.adminToken ?? randomBytes(24).toString('hex');
  const windowMs = options.timestampWindowMs ?? 30_000;
  const maxBody = options.maxBodyBytes ?? 65_536;
  const limits = validateServerLimits({ ...DEFAULT_SERVER_LIMITS, ...options.limits });
  const rateLimit = validateRateLimit({ ...DEFAULT_RATE_LIMIT, ...options.rateLimit });
  const log = options.log ?? (() => {});
  const startAt = clock();
  const config = validateEngineConfig({ ...defaultEngineConfig(seed, startAt), ...options.engine, seed });

  let store: SnapshotStore | null = null;
  let engine: PaperEngine;
  if (options.dataDir) {
    const dir = options.dataDir;
    let current: PaperEngine | null = null;
    store = new SnapshotStore(dir, () => current!.toState(), { revision: () => current!.historyRevision, get: () => current!.toHistoryState() });
    const saved = store.load();
    engine = new PaperEngine(config, startAt, saved ?? undefined, saved ? (store.loadHistory() ?? undefined) : undefined);
    current = engine;
    engine.onChange = () => store!.markDirty();
    store.markDirty();
  } else {
    engine = new PaperEngine(config, startAt);
  }
  for (const k of keys) engine.ensureAccount(k.keyId);
  engine.advanceTo(clock());

  /** Order and settlement times: the market clock itself, never behind the latest step. */
  const marketNow = () => Math.max(clock(), engine.now);

  const faults = new FaultInjector(options.faults ?? {}, options.latencyMeanMs ?? 0);
  const buckets = new TokenBuckets(rateLimit);
  let frozen: Map<string, SnapshotView> | null = null;
  const freezeQuotes = () => {
    frozen = faults.config.staleQuotes ? (frozen ?? new Map(engine.listMarkets().map((m) => [m.marketId, engine.snapshot(m.marketId, MAX_DEPTH)]))) : null;
  };
  freezeQuotes();
  const setFaults = (patch: unknown): FaultConfig => {
    const next = faults.update(patch);
    freezeQuotes();
    return next;
  };

  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  const durable = async () => {
    if (store) await store.durable();
  };

  // ---- /v1 routes ------------------------------------------------------------------------

  function orderRef(kind: string, raw: string): { clientOrderId: string } | { venueOrderId: string } {
    return kind === 'by-client-id' ? { clientOrderId: decodeSegment(raw, 'clientOrderId') } : { venueOrderId: decodeSegment(raw, 'venueOrderId') };
  }

  function routeV1(keyId: string, method: string, url: URL, body: string): Reply {
    const parts = url.pathname.split('/').slice(2);
    const q = url.searchParams;
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) throw new ExchangeError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`);
    };
    const noBody = () => {
      if (body.length > 0) throw new ExchangeError(400, 'INVALID_INPUT', `${method} ${url.pathname} takes no body`);
    };
    const [head, a, b, c] = parts;
    if (head === 'markets' && parts.length === 1) {
      allow('GET');
      rejectUnknownQuery(q, []);
      return { status: 200, body: { markets: engine.listMarkets().map(marketJson) } };
    }
    if (head === 'markets' && parts.length === 3 && b === 'snapshot') {
      allow('GET');
      rejectUnknownQuery(q, ['depth']);
      const depth = queryInteger(q, 'depth', 1, MAX_DEPTH) ?? 5;
      const marketId = decodeSegment(a!, 'marketId');
      if (!engine.hasMarket(marketId)) throw notFound('MARKET_NOT_FOUND', 'market', marketId);
      const stale = frozen?.get(marketId);
      const snap = stale ? { ...stale, bids: stale.bids.slice(0, depth), asks: stale.asks.slice(0, depth) } : engine.snapshot(marketId, depth);
      return { status: 200, body: snapshotJson(snap) };
    }
    if (head === 'markets' && parts.length === 3 && b === 'history') {
      allow('GET');
      noBody();
      rejectUnknownQuery(q, ['since']);
      const since = queryInteger(q, 'since', 0, Number.MAX_SAFE_INTEGER) ?? 0;
      const marketId = decodeSegment(a!, 'marketId');
      if (!engine.hasMarket(marketId)) throw notFound('MARKET_NOT_FOUND', 'market', marketId);
      return { status: 200, body: historyJson(marketId, config.historyIntervalMs, engine.averageDailyVolume(marketId), engine.history(marketId, since)) };
    }
    if (head === 'orders' && parts.length === 1) {
      allow('GET', 'POST');
      if (method === 'POST') {
        rejectUnknownQuery(q, []);
        const req = parsePlaceOrder(parseJsonObject(body), (id) => engine.tickSize(id));
        try {
          const { order, created } = engine.placeOrder(keyId, req, marketNow());
          return { status: created ? 201 : 200, body: { order: orderJson(order) }, mutated: created, createdOrder: created };
        } catch (e) {
          if (e instanceof ExchangeError && e.code === 'DUPLICATE_CLIENT_ORDER_ID') {
            const existing = e.extra?.existing as ExchangeOrder;
            throw new ExchangeError(409, e.code, e.message, e.field, e.value, { order: orderJson(existing) });
          }
          throw e;
        }
      }
      noBody();
      rejectUnknownQuery(q, ['status', 'marketId']);
      const status = q.get('status');
      if (status !== 'open') throw ExchangeError.invalid('status', status, 'must be "open"');
      const marketId = q.get('marketId');
      if (marketId !== null && !engine.hasMarket(marketId)) {
        throw new ExchangeError(400, 'UNKNOWN_MARKET', `unknown market ${JSON.stringify(marketId)}`, 'marketId', marketId);
      }
      return { status: 200, body: { orders: engine.openOrders(keyId, marketId ?? undefined).map(orderJson) } };
    }
    if (head === 'orders' && (parts.length === 2 || (parts.length === 3 && a === 'by-client-id'))) {
      allow('GET', 'DELETE');
      noBody();
      rejectUnknownQuery(q, []);
      const ref = parts.length === 3 ? orderRef('by-client-id', b!) : orderRef('venue', a!);
      if (method === 'DELETE') {
        const before = engine.findOrder(keyId, ref)?.status;
        const order = engine.cancelOrder(keyId, ref, marketNow());
        return { status: 200, body: { order: orderJson(order) }, mutated: before !== order.status };
      }
      const order = engine.findOrder(keyId, ref);
      if (!order) throw notFound('ORDER_NOT_FOUND', 'order', 'clientOrderId' in ref ? ref.clientOrderId : ref.venueOrderId);
      return { status: 200, body: { order: orderJson(order) } };
    }
    if (parts.length === 1 && head === 'fills') {
      allow('GET');
      rejectUnknownQuery(q, ['cursor', 'limit']);
      const after = parseCursor(q.get('cursor'), 'c');
      const limit = queryInteger(q, 'limit', 1, MAX_FILLS_PAGE) ?? DEFAULT_FILLS_PAGE;
      const page = engine.fillsAfter(keyId, after, limit);
      return { status: 200, body: { fills: page.fills.map(fillJson), cursor: cursorText(page.lastSeq, 'c'), hasMore: page.hasMore } };
    }
    if (parts.length === 1 && head === 'positions') {
      allow('GET');
      rejectUnknownQuery(q, []);
      return { status: 200, body: { positions: engine.positions(keyId) } };
    }
    if (parts.length === 1 && head === 'balance') {
      allow('GET');
      rejectUnknownQuery(q, []);
      return { status: 200, body: balanceJson(engine.balance(keyId)) };
    }
    if (parts.length === 1 && head === 'settlements') {
      allow('GET');
      rejectUnknownQuery(q, ['cursor']);
      const page = engine.settlementsAfter(keyId, parseCursor(q.get('cursor'), 's'));
      return { status: 200, body: { settlements: page.settlements.map(settlementJson), cursor: cursorText(page.lastSeq, 's') } };
    }
    void c;
    throw new ExchangeError(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`);
  }

  // ---- admin routes ----------------------------------------------------------------------

  function requireKnownKey(value: unknown): string {
    if (typeof value !== 'string' || !engine.hasAccount(value)) throw ExchangeError.invalid('keyId', value, 'must name a configured key');
    return value;
  }

  function routeAdmin(method: string, url: URL, body: string): Reply {
    const parts = url.pathname.split('/').slice(2);
    const allow = (m: string) => {
      if (method !== m) throw new ExchangeError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`);
    };
    const json = () => parseJsonObject(body.length === 0 ? '{}' : body);
    const path = parts.join('/');
    if (path === 'faults') {
      if (method === 'GET') return { status: 200, body: { faults: faults.config } };
      allow('PUT');
      return { status: 200, body: { faults: checked(() => setFaults(json())) } };
    }
    if (path === 'faults/reset') {
      allow('POST');
      faults.reset();
      freezeQuotes();
      return { status: 200, body: { faults: faults.config } };
    }
    if (path === 'positions/adjust') {
      allow('POST');
      const b = json();
      rejectUnknownFields(b, ['keyId', 'marketId', 'delta']);
      const keyId = requireKnownKey(requireField(b, 'keyId'));
      const marketId = requireField(b, 'marketId');
      if (typeof marketId !== 'string' || !engine.hasMarket(marketId)) throw new ExchangeError(400, 'UNKNOWN_MARKET', `unknown market ${JSON.stringify(marketId)}`, 'marketId', marketId);
      const delta = integerField(requireField(b, 'delta'), 'delta', -1_000_000_000, 1_000_000_000);
      return { status: 200, body: { position: engine.adjustPosition(keyId, marketId, delta) }, mutated: true };
    }
    if (path === 'balance/adjust') {
      allow('POST');
      const b = json();
      rejectUnknownFields(b, ['keyId', 'delta']);
      const keyId = requireKnownKey(requireField(b, 'keyId'));
      const raw = requireField(b, 'delta');
      if (typeof raw !== 'string') throw ExchangeError.invalid('delta', raw, 'must be a decimal string');
      const delta = checked(() => parseMicros(raw, 'delta'));
      return { status: 200, body: balanceJson(engine.adjustCash(keyId, delta)), mutated: true };
    }
    if (parts.length === 3 && parts[0] === 'markets' && parts[2] === 'resolve') {
      allow('POST');
      const marketId = decodeSegment(parts[1]!, 'marketId');
      if (!engine.hasMarket(marketId)) throw notFound('MARKET_NOT_FOUND', 'market', marketId);
      const b = json();
      rejectUnknownFields(b, ['outcome']);
      const outcome = requireField(b, 'outcome');
      if (outcome !== 'YES' && outcome !== 'NO') throw ExchangeError.invalid('outcome', outcome, 'must be YES or NO');
      return { status: 200, body: { market: marketJson(engine.resolveMarket(marketId, outcome, marketNow())) }, mutated: true };
    }
    throw new ExchangeError(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`);
  }

  // ---- request handling ------------------------------------------------------------------

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    let status = 0;
    let keyId = '-';
    const rlHeaders: Record<string, string> = {};
    // Until the body is read, a refusal closes the connection rather than drain an unread body.
    let bodyRead = false;
    const bodyAnnounced = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    const readCapped = async (): Promise<string> => {
      try {
        const text = await readBody(req, maxBody);
        bodyRead = true;
        return text;
      } catch (e) {
        if (e instanceof BodyTooLarge) throw new ExchangeError(413, 'BODY_TOO_LARGE', `request body is larger than ${maxBody} bytes`);
        throw e;
      }
    };
    try {
      const url = parseTarget(target);
      if (url === null) throw new ExchangeError(400, 'INVALID_INPUT', 'the request target is not a valid path', 'path', target);
      const declared = Number(req.headers['content-length'] ?? 0);
      if (Number.isFinite(declared) && declared > maxBody) throw new ExchangeError(413, 'BODY_TOO_LARGE', `request body is larger than ${maxBody} bytes`);
      if (url.pathname === '/health') {
        status = 200;
        return send(res, 200, { ok: true, now: marketNow() }, bodyAnnounced ? { connection: 'close' } : {});
      }
      // Who is asking is settled from the headers before any body is read.
      if (url.pathname.startsWith('/admin/')) {
        verifyAdmin(adminToken, req.headers.authorization);
        const reply = routeAdmin(method, url, await readCapped());
        if (reply.mutated) await durable();
        status = reply.status;
        return send(res, reply.status, reply.body);
      }
      if (!url.pathname.startsWith('/v1/')) throw new ExchangeError(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`);

      const signing = checkSigningHeaders(keyMap, req.headers, wallClock(), windowMs);
      const body = await readCapped();
      keyId = checkSignature(signing, method, target, body);
      const weight = method === 'GET' ? rateLimit.readWeight : rateLimit.orderWeight;
      const taken = buckets.take(keyId, weight, wallClock());
      rlHeaders['x-ratelimit-limit'] = String(rateLimit.capacity);
      rlHeaders['x-ratelimit-remaining'] = String(taken.remaining);
      if (!taken.ok) {
        rlHeaders['retry-after'] = String(taken.retryAfterSeconds);
        throw new ExchangeError(429, 'RATE_LIMITED', `rate limit exceeded; retry after ${taken.retryAfterSeconds} s`);
      }
      const pre = faults.beforeProcessing();
      if (pre.kind === 'error') {
        const code = pre.status === 500 ? 'INTERNAL_ERROR' : pre.status === 502 ? 'BAD_GATEWAY' : 'SERVICE_UNAVAILABLE';
        throw new ExchangeError(pre.status, code, 'the exchange could not process the request');
      }
      if (pre.kind === 'rateLimitStorm') {
        rlHeaders['retry-after'] = String(pre.retryAfterSeconds);
        throw new ExchangeError(429, 'RATE_LIMITED', `rate limit exceeded; retry after ${pre.retryAfterSeconds} s`);
      }
      if (pre.kind === 'hang') {
        status = -1;
        await sleep(pre.maxMs);
        req.socket.destroy();
        return;
      }

      engine.advanceTo(clock());
      const reply = routeV1(keyId, method, url, body);
      // A duplicate placement may return an order whose creating write is still in flight.
      if (reply.mutated || method !== 'GET') await durable();
      if (reply.createdOrder && faults.dropAfterAccept()) {
        status = -2;
        req.socket.destroy();
        return;
      }
      faults.maybeDropField(reply.body);
      const delay = faults.delayMs();
      if (delay > 0) await sleep(delay);
      status = reply.status;
      send(res, reply.status, reply.body, rlHeaders);
    } catch (e) {
      const err =
        e instanceof ExchangeError
          ? e
          : e instanceof InvalidInput
            ? ExchangeError.fromInvalidInput(e)
            : new ExchangeError(500, 'INTERNAL_ERROR', 'internal error');
      if (!(e instanceof ExchangeError) && !(e instanceof InvalidInput)) log(`internal error: ${(e as Error)?.stack ?? String(e)}`);
      status = err.status;
      const headers = err.status === 413 || (!bodyRead && bodyAnnounced) ? { ...rlHeaders, connection: 'close' } : rlHeaders;
      send(res, err.status, err.body(), headers);
    } finally {
      const outcome = status === -1 ? 'hung' : status === -2 ? 'dropped' : String(status);
      log(`${method} ${parseTarget(target)?.pathname ?? '(invalid target)'} ${outcome} key=${keyId} ${(performance.now() - started).toFixed(1)}ms`);
    }
  }

  const server = createServer(
    {
      keepAliveTimeout: 5_000,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node enforces both timeouts on this period (default 30 s), so check often enough to matter.
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.maxConnections = limits.maxConnections;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const autoAdvance = options.autoAdvance ?? options.clock === undefined;
  const ticker = autoAdvance ? setInterval(() => engine.advanceTo(clock()), config.stepMs) : null;
  ticker?.unref();

  let closed = false;
  const admin: PaperExchangeAdmin = {
    setFaults: (patch) => setFaults(patch),
    resetFaults: () => {
      const f = faults.reset();
      freezeQuotes();
      return f;
    },
    adjustPosition: (k, m, d) => engine.adjustPosition(k, m, d),
    adjustCash: (k, d) => void engine.adjustCash(k, d),
    resolveMarket: (m, o) => void engine.resolveMarket(m, o, marketNow()),
    advance: () => engine.advanceTo(clock()),
    flush: async () => {
      if (store) await store.flush();
    },
  };

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    keys,
    adminToken,
    engine,
    admin,
    async close() {
      if (closed) return;
      closed = true;
      if (ticker) clearInterval(ticker);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
      if (store) await store.flush();
    },
  };
}
