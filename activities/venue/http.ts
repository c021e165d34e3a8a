/**
 * The signed HTTP transport every venue adapter goes through. Per attempt it: asks the
 * circuit breaker for admission, waits for rate-limit capacity, signs the request, sends it
 * with a deadline, classifies the outcome into the VenueError taxonomy, and reports it to the
 * breaker and the health monitor. Idempotent requests (reads, cancels) are retried here with
 * backoff; a submission is sent once, because only the caller knows how to check whether a
 * lost answer hid an accepted order (see resilient-venue.ts).
 *
 * Credentials reach this module only inside the signer closure. Headers are never logged;
 * any text that came back from the venue is scrubbed of the secrets it was given before it
 * becomes part of an error message or a log line.
 */
import { systemClock, type Clock, type RandomSource } from './clock';
import { CircuitBreaker, DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerConfig } from './circuit-breaker';
import { VenueError, isVenueError, kindForStatus, parseRetryAfter } from './errors';
import { ConnectionHealth } from './health';
import { TokenBucketRateLimiter, type RateLimitConfig } from './rate-limiter';
import { DEFAULT_RETRY_POLICY, validateRetryPolicy, withRetry, type RetryPolicy } from './retry';

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PUT';

export interface SigningInput {
  method: HttpMethod;
  /** URL path including any base path (e.g. "/trade-api/v2/portfolio/orders"), without the query. */
  path: string;
  /** Path plus "?query" when there is one. */
  pathWithQuery: string;
  /** Exact request body text ("" when none). */
  body: string;
  timestampMs: number;
}

/** Produces the authentication headers for one request. Holds the credentials in its closure. */
export type Signer = (input: SigningInput) => Record<string, string>;

export interface VenueRequest {
  method: HttpMethod;
  /** Path relative to the base URL, starting with "/". */
  path: string;
  query?: Readonly<Record<string, string | number | undefined>>;
  body?: unknown;
  /** True when sending it twice has the effect of sending it once (reads, cancels). */
  idempotent: boolean;
}

/** Reads a venue's error body into its own code and message. */
export type ErrorBodyParser = (body: unknown) => { code?: string; message?: string };

export interface VenueLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  event: 'response' | 'failure' | 'retry' | 'circuit';
  venue: string;
  operation: string;
  method?: HttpMethod;
  path?: string;
  status?: number;
  kind?: string;
  attempt?: number;
  delayMs?: number;
  durationMs?: number;
  message?: string;
}

export type VenueLogger = (entry: VenueLogEntry) => void;

export interface VenueHttpClientOptions {
  venue: string;
  baseUrl: string;
  signer?: Signer;
  /** Per-attempt deadline. */
  timeoutMs?: number;
  rateLimit: RateLimitConfig;
  circuitBreaker?: CircuitBreakerConfig;
  retry?: RetryPolicy;
  /** Consecutive connection failures before the venue is reported lost. */
  lostAfterFailures?: number;
  clock?: Clock;
  random?: RandomSource;
  logger?: VenueLogger;
  /** Strings that must never appear in errors or logs (keys, secrets). */
  secrets?: readonly string[];
  parseErrorBody?: ErrorBodyParser;
  fetch?: typeof fetch;
}

const REDACTED = '[redacted]';

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join(REDACTED);
  return out;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function networkCode(e: unknown): string {
  let cur: unknown = e;
  for (let depth = 0; depth < 4 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return 'UNKNOWN';
}

export interface HttpStats {
  /** Attempts that reached the network, per operation. */
  attempts: Record<string, number>;
  /** Failures per kind, counting every attempt. */
  failures: Record<string, number>;
  retries: number;
}

export class VenueHttpClient {
  readonly venue: string;
  readonly limiter: TokenBucketRateLimiter;
  readonly breaker: CircuitBreaker;
  readonly health: ConnectionHealth;
  private readonly base: URL;
  private readonly clock: Clock;
  private readonly retry: RetryPolicy;
  private readonly secrets: readonly string[];
  private readonly fetchImpl: typeof fetch;
  private readonly counters: HttpStats = { attempts: {}, failures: {}, retries: 0 };

  constructor(private readonly options: VenueHttpClientOptions) {
    this.venue = options.venue;
    this.clock = options.clock ?? systemClock;
    this.retry = validateRetryPolicy(options.retry ?? DEFAULT_RETRY_POLICY);
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.limiter = new TokenBucketRateLimiter(options.rateLimit, this.clock);
    this.breaker = new CircuitBreaker(options.venue, options.circuitBreaker ?? DEFAULT_CIRCUIT_BREAKER, this.clock, (t) =>
      this.log({ level: t.to === 'OPEN' ? 'error' : 'warn', event: 'circuit', venue: this.venue, operation: '-', message: `${t.from} -> ${t.to} after ${t.consecutiveFailures} failures` }),
    );
    this.health = new ConnectionHealth(options.venue, options.lostAfterFailures ?? 3, this.clock);
    this.secrets = options.secrets ?? [];
    this.fetchImpl = options.fetch ?? fetch;
  }

  stats(): HttpStats {
    return { attempts: { ...this.counters.attempts }, failures: { ...this.counters.failures }, retries: this.counters.retries };
  }

  /** Sends `req`, retrying transient failures when it is idempotent; returns the parsed JSON body (null when empty). */
  request(operation: string, req: VenueRequest): Promise<unknown> {
    // A 429 or an open circuit means the venue never processed the request, so even a submission may be repeated.
    const shouldRetry = (e: unknown): boolean =>
      isVenueError(e) && (req.idempotent ? e.isTransient : e.kind === 'RATE_LIMITED' || e.kind === 'CIRCUIT_OPEN');
    return withRetry((attempt) => this.attempt(operation, req, attempt), this.retry, {
      clock: this.clock,
      random: this.options.random ?? Math.random,
      shouldRetry,
      onRetry: ({ attempt, delayMs, error }) => {
        this.counters.retries += 1;
        this.log({
          level: 'warn',
          event: 'retry',
          venue: this.venue,
          operation,
          method: req.method,
          path: req.path,
          attempt,
          delayMs,
          kind: isVenueError(error) ? error.kind : 'UNKNOWN',
        });
      },
    });
  }

  private url(req: VenueRequest): URL {
    const url = new URL(req.path.replace(/^\//, ''), this.base);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async attempt(operation: string, req: VenueRequest, attempt: number): Promise<unknown> {
    try {
      this.breaker.admit(operation);
    } catch (e) {
      this.counters.failures.CIRCUIT_OPEN = (this.counters.failures.CIRCUIT_OPEN ?? 0) + 1;
      throw e;
    }
    await this.limiter.acquire(operation);
    this.counters.attempts[operation] = (this.counters.attempts[operation] ?? 0) + 1;
    const started = this.clock.now();
    try {
      const result = await this.send(operation, req);
      this.breaker.success();
      this.health.recordSuccess();
      this.log({ level: 'debug', event: 'response', venue: this.venue, operation, method: req.method, path: req.path, attempt, durationMs: this.clock.now() - started });
      return result;
    } catch (e) {
      const err = isVenueError(e) ? e : new VenueError('NETWORK', 'unexpected transport failure', { venue: this.venue, operation, cause: e });
      this.counters.failures[err.kind] = (this.counters.failures[err.kind] ?? 0) + 1;
      if (err.kind === 'NETWORK' || err.kind === 'TIMEOUT' || err.kind === 'UNAVAILABLE') this.breaker.failure();
      else this.breaker.neutral();
      this.health.recordFailure(err.kind);
      // Capped at the longest Retry-After the policy honours: a venue asking for days would
      // otherwise stall every later call of this client, cancels included, before it is sent.
      if (err.kind === 'RATE_LIMITED') {
        if (err.retryAfterMs === undefined) this.limiter.exhausted(operation);
        else this.limiter.pause(Math.min(err.retryAfterMs, this.retry.maxRetryAfterMs));
      }
      this.log({
        level: err.isFatal ? 'error' : 'warn',
        event: 'failure',
        venue: this.venue,
        operation,
        method: req.method,
        path: req.path,
        status: err.status,
        kind: err.kind,
        attempt,
        durationMs: this.clock.now() - started,
        message: err.message,
      });
      throw err;
    }
  }

  private async send(operation: string, req: VenueRequest): Promise<unknown> {
    const url = this.url(req);
    const bodyText = req.body === undefined ? '' : JSON.stringify(req.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (bodyText !== '') headers['content-type'] = 'application/json';
    if (this.options.signer) {
      Object.assign(
        headers,
        this.options.signer({ method: req.method, path: url.pathname, pathWithQuery: url.pathname + url.search, body: bodyText, timestampMs: this.clock.now() }),
      );
    }
    // The deadline runs on the real timer even with an injected clock: it bounds a real socket.
    const controller = new AbortController();
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const details = { venue: this.venue, operation };
    let status: number;
    let text: string;
    let retryAfterHeader: string | null;
    try {
      const res = await this.fetchImpl(url, { method: req.method, headers, body: bodyText === '' ? undefined : bodyText, signal: controller.signal });
      status = res.status;
      retryAfterHeader = res.headers.get('retry-after');
      text = await res.text();
    } catch (e) {
      if (controller.signal.aborted) throw new VenueError('TIMEOUT', `no response within ${timeoutMs} ms`, details);
      // Every other fetch failure means no usable answer arrived: refused, reset, closed mid-body.
      const code = networkCode(e);
      throw new VenueError('NETWORK', `connection failed (${NETWORK_CODES.has(code) ? code : 'other'})`, details);
    } finally {
      clearTimeout(timer);
    }
    const kind = kindForStatus(status);
    if (kind !== null) {
      const { code, message } = this.readErrorBody(text);
      const retryAfterMs = parseRetryAfter(retryAfterHeader, this.clock.now());
      const parts = [`HTTP ${status}`, code, message].filter((p): p is string => typeof p === 'string' && p.length > 0);
      throw new VenueError(kind, scrub(parts.join(' '), this.secrets), { ...details, status, retryAfterMs, venueCode: code === undefined ? undefined : scrub(code, this.secrets) });
    }
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new VenueError('MALFORMED_RESPONSE', `body is not JSON (${text.length} bytes)`, { ...details, status, field: '(body)', value: scrub(text.slice(0, 80), this.secrets) });
    }
  }

  private readErrorBody(text: string): { code?: string; message?: string } {
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // A non-JSON error page: keep a short prefix as the message.
      return { message: text.slice(0, 120) };
    }
    const parsed = this.options.parseErrorBody?.(body) ?? genericErrorBody(body);
    return { code: parsed.code?.slice(0, 80), message: parsed.message?.slice(0, 200) };
  }

  private log(entry: VenueLogEntry): void {
    if (!this.options.logger) return;
    this.options.logger(entry.message === undefined ? entry : { ...entry, message: scrub(entry.message, this.secrets) });
  }
}

/** `{"error": {"code", "message"}}`, `{"error": "text"}`, `{"code", "message"}`: the common shapes. */
export function genericErrorBody(body: unknown): { code?: string; message?: string } {
  if (body === null || typeof body !== 'object') return {};
  const rec = body as Record<string, unknown>;
  const inner = rec.error;
  if (typeof inner === 'string') return { message: inner };
  const src = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : rec;
  return {
    code: typeof src.code === 'string' ? src.code : undefined,
    message: typeof src.message === 'string' ? src.message : undefined,
  };
}
