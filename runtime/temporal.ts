/**
 * Reaching Temporal: a running server at TEMPORAL_ADDRESS, or a local dev server (Temporal CLI)
 * with its state in <dataDir>/temporal/ and its Web UI on 127.0.0.1. Also registers the custom
 * search attributes where the server allows it; where it does not, the workflows run without them.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { Client, Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { encodeSearchAttributeIndexedValueType, type SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment, type LocalTestWorkflowEnvironmentOptions } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { ORDER_SEARCH_ATTRIBUTES } from '../workflows/api';
import { ENV, type TemporalConfig, type WorkerConfig } from './config';
import { buildCli, findCachedCli, findGo } from './temporal-cli';

export interface WorkerLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export const consoleLog: WorkerLog = {
  info: (m, meta) => console.log(meta ? `${m} ${JSON.stringify(meta)}` : m),
  warn: (m, meta) => console.warn(meta ? `${m} ${JSON.stringify(meta)}` : m),
};

/** No server could be reached or started; the message says which variables to set. */
export class TemporalUnavailable extends Error {
  readonly type = 'TemporalUnavailable';

  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `No Temporal server: ${detail}. Either set ${ENV.temporalAddress} to the host:port of a running Temporal Server ` +
        `(1.29 or newer, or Temporal Cloud), or set ${ENV.temporalCliPath} to the path of a Temporal CLI binary ` +
        `(npx tsx runtime/temporal-cli.ts ensure builds the pinned one where Go is installed) so that a local dev server is started, with its data under <dataDir>/temporal.`,
      options,
    );
    this.name = 'TemporalUnavailable';
  }
}

export interface TemporalHandle {
  client: Client;
  /** For clients and the operator service. */
  connection: Connection;
  /** For the Worker. */
  nativeConnection: NativeConnection;
  namespace: string;
  address: string;
  /** Set when this process started a local dev server. */
  webUiUrl: string | null;
  local: boolean;
  /** Closes the connections and stops a local dev server. */
  close(): Promise<void>;
}

/** Test seam: how a local dev server is started. */
export type StartLocalServer = (opts: LocalTestWorkflowEnvironmentOptions) => Promise<TestWorkflowEnvironment>;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Why a file cannot serve as the CLI binary, or null when it can. */
export function cliPathProblem(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    accessSync(path, constants.X_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not executable' : `cannot be used (${code ?? errorText(e)})`;
  }
}

/** Options for a local dev server; `cliPath` (when given) overrides the configured one. */
export function localServerOptions(config: WorkerConfig, cliPath: string | null = config.temporal.cliPath): LocalTestWorkflowEnvironmentOptions {
  const { temporal } = config;
  return {
    server: {
      executable: cliPath !== null ? { type: 'existing-path', path: cliPath } : { type: 'cached-download' },
      // Registered by the dev server as it starts: orders can be filtered in the Web UI at once.
      searchAttributes: [...ORDER_SEARCH_ATTRIBUTES],
      dbFilename: join(config.dataDir, 'temporal', 'temporal.sqlite'),
      namespace: temporal.namespace,
      ip: '127.0.0.1',
      port: temporal.localPort,
      ui: true,
      uiPort: temporal.uiPort,
      log: { format: 'pretty', level: 'warn' },
    },
  };
}

/** What both the client's and the worker's connection take: the SDK's TLS, API key and metadata options. */
export interface TemporalConnectionOptions {
  address: string;
  /** False: plaintext (a local dev server, or TLS turned off). */
  tls: TLSConfig | false;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * The one place the validated settings become SDK connection options. TLS, the API key and the
 * extra headers apply to the configured TEMPORAL_ADDRESS only: a local dev server (any other
 * address, e.g. the CLI's 127.0.0.1:<TEMPORAL_LOCAL_PORT>) is plaintext.
 */
export function temporalConnectionOptions(temporal: TemporalConfig, address: string = temporal.address ?? `127.0.0.1:${temporal.localPort}`): TemporalConnectionOptions {
  if (temporal.address === null || address !== temporal.address) return { address, tls: false };
  const { tls } = temporal;
  return {
    address,
    tls:
      tls === null
        ? false
        : {
            ...(tls.serverName !== null && { serverNameOverride: tls.serverName }),
            ...(tls.serverCaCert !== null && { serverRootCACertificate: Buffer.from(tls.serverCaCert) }),
            ...(tls.client !== null && { clientCertPair: { crt: Buffer.from(tls.client.cert), key: Buffer.from(tls.client.key.reveal()) } }),
          },
    ...(temporal.apiKey !== null && { apiKey: temporal.apiKey.reveal() }),
    ...(Object.keys(temporal.grpcMeta).length > 0 && { metadata: { ...temporal.grpcMeta } }),
  };
}

/** How the connection is secured, for log lines (no secrets). */
export function describeConnection(temporal: TemporalConfig, address: string): string {
  const o = temporalConnectionOptions(temporal, address);
  const parts = [o.tls === false ? 'plaintext' : o.tls.clientCertPair ? 'mTLS' : 'TLS'];
  if (o.tls !== false && o.tls.serverNameOverride) parts.push(`server name ${o.tls.serverNameOverride}`);
  if (o.tls !== false) parts.push(o.tls.serverRootCACertificate ? 'configured CA' : 'system CAs');
  if (o.apiKey !== undefined) parts.push('API key');
  if (temporal.profile !== null && address === temporal.address) parts.push(temporal.profile);
  return parts.join(', ');
}

/**
 * Why a TLS handshake with `address` fails, as Node's TLS stack words it ("unable to verify the
 * first certificate", "Hostname/IP does not match certificate's altnames", "certificate
 * required"); null when it succeeds or TLS is off. The gRPC clients only say "failed to connect".
 */
export async function tlsHandshakeProblem(temporal: TemporalConfig, address: string, timeoutMs = 3_000): Promise<string | null> {
  const o = temporalConnectionOptions(temporal, address);
  if (o.tls === false) return null;
  const cut = address.lastIndexOf(':');
  const host = address.slice(0, cut).replace(/^\[|\]$/g, '');
  const tlsOptions = o.tls;
  return new Promise((resolve) => {
    let settled = false;
    const done = (problem: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const socket = tlsConnect({
      host,
      port: Number(address.slice(cut + 1)),
      servername: tlsOptions.serverNameOverride ?? (isIP(host) ? undefined : host),
      ...(tlsOptions.serverNameOverride && { checkServerIdentity: (_h: string, cert: PeerCertificate) => checkServerIdentity(tlsOptions.serverNameOverride!, cert) }),
      ...(tlsOptions.serverRootCACertificate && { ca: Buffer.from(tlsOptions.serverRootCACertificate) }),
      ...(tlsOptions.clientCertPair && { cert: Buffer.from(tlsOptions.clientCertPair.crt), key: Buffer.from(tlsOptions.clientCertPair.key) }),
      ALPNProtocols: ['h2'],
    });
    // With TLS 1.3 a refused client certificate arrives after the handshake: wait a moment for it.
    socket.once('secureConnect', () => setTimeout(() => done(null), 300));
    socket.once('error', (e) => done(`TLS handshake: ${e.message}`));
    socket.once('close', () => done(settled ? null : 'TLS handshake: the server closed the connection'));
    const timer = setTimeout(() => done(null), timeoutMs);
  });
}

/** A client connection (CLI, dashboard, starters) to `address` (default: the configured one). */
export async function connectClientConnection(temporal: TemporalConfig, options: { address?: string; connectTimeout?: string | number } = {}): Promise<Connection> {
  return Connection.connect({ ...temporalConnectionOptions(temporal, options.address), connectTimeout: options.connectTimeout ?? '10 seconds' });
}

/** A worker connection (Rust core) to `address` (default: the configured one). */
export async function connectWorkerConnection(temporal: TemporalConfig, address?: string): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(temporal, address));
}

async function connectRemote(config: WorkerConfig, address: string, log: WorkerLog): Promise<TemporalHandle> {
  const { namespace } = config.temporal;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  try {
    connection = await connectClientConnection(config.temporal, { address });
  } catch (e) {
    const handshake = await tlsHandshakeProblem(config.temporal, address);
    throw new TemporalUnavailable(`${ENV.temporalAddress}=${address} could not be reached (${describeConnection(config.temporal, address)}: ${errorText(e)}${handshake ? `; ${handshake}` : ''})`, { cause: e });
  }
  try {
    nativeConnection = await connectWorkerConnection(config.temporal, address);
  } catch (e) {
    await connection.close();
    const handshake = await tlsHandshakeProblem(config.temporal, address);
    throw new TemporalUnavailable(`${ENV.temporalAddress}=${address} could not be reached by the worker (${describeConnection(config.temporal, address)}: ${errorText(e)}${handshake ? `; ${handshake}` : ''})`, { cause: e });
  }
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (e) {
    await Promise.allSettled([connection.close(), nativeConnection.close()]);
    if (grpcCode(e) === GrpcCode.NOT_FOUND) {
      throw new TemporalUnavailable(`namespace "${namespace}" does not exist on ${address}: create it, or set ${ENV.temporalNamespace}`, { cause: e });
    }
    throw new TemporalUnavailable(`${ENV.temporalAddress}=${address} did not answer (${errorText(e)})`, { cause: e });
  }
  log.info(`Temporal: connected to ${address} (${describeConnection(config.temporal, address)}), namespace ${namespace}`);
  return {
    client: new Client({ connection, namespace }),
    connection,
    nativeConnection,
    namespace,
    address,
    webUiUrl: null,
    local: false,
    close: async () => {
      await Promise.allSettled([nativeConnection.close(), connection.close()]);
    },
  };
}

/** Where a local dev server's CLI comes from when TEMPORAL_CLI_PATH is not set (test seams). */
export interface CliSources {
  /** The pinned CLI already built into the cache, or null. */
  cached(): string | null;
  /** Builds the pinned CLI into the cache (needs Go), or null when this machine has no Go. */
  build: (() => Promise<string>) | null;
}

const defaultCliSources = (log: WorkerLog): CliSources => ({
  cached: () => findCachedCli(),
  build: findGo() === null ? null : () => buildCli(process.env, (line) => log.info(line)),
});

/**
 * TEMPORAL_ADDRESS set: connect to it. Otherwise start a local dev server from, in order: the CLI
 * at TEMPORAL_CLI_PATH (checked first, so a wrong path fails at once without any download); the
 * pinned CLI in the cache; the SDK's download; the pinned CLI built with Go into the cache.
 * Throws TemporalUnavailable naming both variables.
 */
export async function connectTemporal(
  config: WorkerConfig,
  log: WorkerLog,
  startLocal: StartLocalServer = (o) => TestWorkflowEnvironment.createLocal(o),
  sources: CliSources = defaultCliSources(log),
): Promise<TemporalHandle> {
  const { temporal } = config;
  if (temporal.address !== null) return connectRemote(config, temporal.address, log);

  if (temporal.cliPath !== null) {
    const problem = cliPathProblem(temporal.cliPath);
    if (problem !== null) throw new TemporalUnavailable(`${ENV.temporalAddress} is not set and ${ENV.temporalCliPath}=${temporal.cliPath} ${problem}`);
  }
  mkdirSync(join(config.dataDir, 'temporal'), { recursive: true });
  const portHint = `If another worker already runs a dev server on 127.0.0.1:${temporal.localPort}, set ${ENV.temporalAddress}=127.0.0.1:${temporal.localPort}`;
  let env: TestWorkflowEnvironment;
  if (temporal.cliPath !== null) {
    try {
      env = await startLocal(localServerOptions(config));
    } catch (e) {
      throw new TemporalUnavailable(`${ENV.temporalAddress} is not set; the local dev server at ${ENV.temporalCliPath}=${temporal.cliPath} did not start (${errorText(e)}). ${portHint}`, { cause: e });
    }
  } else {
    const cached = sources.cached();
    if (cached !== null) {
      log.info(`Temporal: starting a local dev server from the cached CLI ${cached}`);
      try {
        env = await startLocal(localServerOptions(config, cached));
      } catch (e) {
        throw new TemporalUnavailable(`${ENV.temporalAddress} is not set; the local dev server from the cached CLI ${cached} did not start (${errorText(e)}). ${portHint}`, { cause: e });
      }
    } else {
      try {
        env = await startLocal(localServerOptions(config, null));
      } catch (downloadError) {
        if (sources.build === null) {
          throw new TemporalUnavailable(
            `${ENV.temporalCliPath} is not set, no CLI is cached, the Temporal CLI could not be downloaded (${errorText(downloadError)}) and there is no Go to build it. ${portHint}`,
            { cause: downloadError },
          );
        }
        log.info(`Temporal: the CLI could not be downloaded (${errorText(downloadError)}); building the pinned CLI with Go instead`);
        let built: string;
        try {
          built = await sources.build();
        } catch (e) {
          throw new TemporalUnavailable(
            `${ENV.temporalCliPath} is not set, the Temporal CLI could not be downloaded (${errorText(downloadError)}) nor built (${errorText(e)})`,
            { cause: e },
          );
        }
        try {
          env = await startLocal(localServerOptions(config, built));
        } catch (e) {
          throw new TemporalUnavailable(`${ENV.temporalAddress} is not set; the local dev server from the CLI built at ${built} did not start (${errorText(e)}). ${portHint}`, { cause: e });
        }
      }
    }
  }
  const webUiUrl = `http://127.0.0.1:${temporal.uiPort}`;
  log.info(`Temporal: local dev server on ${env.address}, namespace ${temporal.namespace}; Web UI at ${webUiUrl}`);
  return {
    client: env.client,
    connection: env.connection,
    nativeConnection: env.nativeConnection,
    namespace: temporal.namespace,
    address: env.address,
    webUiUrl,
    local: true,
    close: () => env.teardown(),
  };
}

// ---- gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) ----

export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** The gRPC status code of an error or of any error in its cause chain; null if none is one. */
export function grpcCode(error: unknown): number | null {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

const TRANSIENT_CODES: ReadonlySet<number> = new Set([GrpcCode.UNAVAILABLE, GrpcCode.DEADLINE_EXCEEDED, GrpcCode.ABORTED, GrpcCode.RESOURCE_EXHAUSTED]);

export type SearchAttributeVerdict = 'REGISTERED' | 'REFUSED' | 'TRANSIENT';

/**
 * What an error from adding search attributes means. Already registered is success; a server
 * that cannot be reached right now may be asked again; everything else (permission denied on
 * Temporal Cloud, unimplemented, standard visibility on an old server, limits) is a refusal.
 */
export function searchAttributeVerdict(code: number | null, message: string): SearchAttributeVerdict {
  if (code === GrpcCode.OK || code === GrpcCode.ALREADY_EXISTS) return 'REGISTERED';
  if (code === GrpcCode.INVALID_ARGUMENT && /already exist/i.test(message)) return 'REGISTERED';
  if (code !== null && TRANSIENT_CODES.has(code)) return 'TRANSIENT';
  return 'REFUSED';
}

/** Which wanted attributes are missing, and which exist with another type (unusable). */
export function compareSearchAttributes(
  existing: Readonly<Record<string, number | null | undefined>>,
  wanted: readonly SearchAttributeKey<SearchAttributeType>[],
): { missing: string[]; conflicting: string[] } {
  const missing: string[] = [];
  const conflicting: string[] = [];
  for (const key of wanted) {
    const have = existing[key.name];
    if (have === undefined || have === null) missing.push(key.name);
    else if (have !== encodeSearchAttributeIndexedValueType(key.type)) conflicting.push(key.name);
  }
  return { missing, conflicting };
}

export interface RegisterOptions {
  attributes?: readonly SearchAttributeKey<SearchAttributeType>[];
  retries?: number;
  retryDelayMs?: number;
}

/**
 * Registers the custom search attributes of workflows/api.ts. True when all are there; false
 * (after one warning) when the server refuses: the starter then passes `searchAttributes: false`.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string, log: WorkerLog, options: RegisterOptions = {}): Promise<boolean> {
  const wanted = options.attributes ?? ORDER_SEARCH_ATTRIBUTES;
  const retries = options.retries ?? 3;
  const names = wanted.map((k) => k.name).join(', ');
  const refuse = (why: string): false => {
    log.warn(`Search attributes ${names} are not available (${why}); workflows run without them and cannot be filtered by them in the Web UI.`);
    return false;
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      const { missing, conflicting } = compareSearchAttributes(listed.customAttributes ?? {}, wanted);
      if (conflicting.length > 0) return refuse(`${conflicting.join(', ')} already exist with another type`);
      if (missing.length === 0) return true;
      const searchAttributes: Record<string, number> = {};
      for (const key of wanted) if (missing.includes(key.name)) searchAttributes[key.name] = encodeSearchAttributeIndexedValueType(key.type) ?? 0;
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
      log.info(`Registered search attributes ${missing.join(', ')} in namespace ${namespace}`);
      return true;
    } catch (e) {
      const verdict = searchAttributeVerdict(grpcCode(e), errorText(e));
      if (verdict === 'REGISTERED') return true;
      if (verdict === 'TRANSIENT' && attempt < retries) {
        await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 1_000) * 2 ** attempt));
        continue;
      }
      return refuse(errorText(e));
    }
  }
}
