import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { ORDER_SEARCH_ATTRIBUTES } from '../../workflows/api';
import { buildConfig } from '../../runtime/config';
import {
  GrpcCode,
  TemporalUnavailable,
  compareSearchAttributes,
  connectTemporal,
  grpcCode,
  localServerOptions,
  registerSearchAttributes,
  searchAttributeVerdict,
  type WorkerLog,
} from '../../runtime/temporal';

const KEYWORD = 2;
const TEXT = 1;

function recordingLog() {
  const warnings: string[] = [];
  const infos: string[] = [];
  const log: WorkerLog = { info: (m) => void infos.push(m), warn: (m) => void warnings.push(m) };
  return { log, warnings, infos };
}

function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

/** An operator service double: `list` holds the registered attributes, `add` scripts the replies. */
function fakeConnection(list: Record<string, number>, addReplies: (Error | null)[] = []) {
  const added: Record<string, number>[] = [];
  const connection = {
    operatorService: {
      listSearchAttributes: async () => ({ customAttributes: { ...list } }),
      addSearchAttributes: async (req: { searchAttributes: Record<string, number> }) => {
        added.push(req.searchAttributes);
        const reply = addReplies.shift() ?? null;
        if (reply) throw reply;
        Object.assign(list, req.searchAttributes);
        return {};
      },
    },
  } as unknown as Connection;
  return { connection, added };
}

describe('search attribute decision', () => {
  it('treats already-registered as success, unreachable as transient, everything else as a refusal', () => {
    expect(searchAttributeVerdict(GrpcCode.OK, '')).toBe('REGISTERED');
    expect(searchAttributeVerdict(GrpcCode.ALREADY_EXISTS, 'exists')).toBe('REGISTERED');
    expect(searchAttributeVerdict(GrpcCode.INVALID_ARGUMENT, 'Search attribute TradingMarket already exists.')).toBe('REGISTERED');
    expect(searchAttributeVerdict(GrpcCode.INVALID_ARGUMENT, 'Unable to create search attributes: cannot have more than 3 search attribute of type Keyword.')).toBe('REFUSED');
    expect(searchAttributeVerdict(GrpcCode.PERMISSION_DENIED, 'Request unauthorized.')).toBe('REFUSED');
    expect(searchAttributeVerdict(GrpcCode.UNIMPLEMENTED, 'unknown method')).toBe('REFUSED');
    expect(searchAttributeVerdict(GrpcCode.UNAUTHENTICATED, '')).toBe('REFUSED');
    expect(searchAttributeVerdict(GrpcCode.FAILED_PRECONDITION, '')).toBe('REFUSED');
    expect(searchAttributeVerdict(GrpcCode.UNAVAILABLE, 'connection refused')).toBe('TRANSIENT');
    expect(searchAttributeVerdict(GrpcCode.DEADLINE_EXCEEDED, '')).toBe('TRANSIENT');
    expect(searchAttributeVerdict(null, 'TypeError')).toBe('REFUSED');
  });

  it('finds the gRPC code through the SDK error chain', () => {
    const inner = grpcError(GrpcCode.PERMISSION_DENIED, 'denied');
    expect(grpcCode(new ServiceError('wrapped', { cause: inner }))).toBe(GrpcCode.PERMISSION_DENIED);
    expect(grpcCode(new Error('plain'))).toBeNull();
    expect(grpcCode('text')).toBeNull();
  });

  it('sorts wanted keys into missing and conflicting', () => {
    const names = ORDER_SEARCH_ATTRIBUTES.map((k) => k.name);
    expect(compareSearchAttributes({}, ORDER_SEARCH_ATTRIBUTES)).toEqual({ missing: names, conflicting: [] });
    expect(compareSearchAttributes({ TradingMarket: KEYWORD, TradingSide: TEXT }, ORDER_SEARCH_ATTRIBUTES)).toEqual({
      missing: ['TradingStrategy', 'TradingOrderState'],
      conflicting: ['TradingSide'],
    });
  });
});

describe('registerSearchAttributes', () => {
  it('adds only the missing keyword attributes', async () => {
    const { connection, added } = fakeConnection({ TradingMarket: KEYWORD });
    const { log, warnings } = recordingLog();
    expect(await registerSearchAttributes(connection, 'default', log)).toBe(true);
    expect(added).toEqual([{ TradingStrategy: KEYWORD, TradingSide: KEYWORD, TradingOrderState: KEYWORD }]);
    expect(warnings).toEqual([]);
  });

  it('does nothing when all are registered', async () => {
    const { connection, added } = fakeConnection({ TradingMarket: KEYWORD, TradingStrategy: KEYWORD, TradingSide: KEYWORD, TradingOrderState: KEYWORD });
    expect(await registerSearchAttributes(connection, 'default', recordingLog().log)).toBe(true);
    expect(added).toEqual([]);
  });

  it('takes an already-exists race as success', async () => {
    const { connection } = fakeConnection({}, [grpcError(GrpcCode.ALREADY_EXISTS, 'already exists')]);
    expect(await registerSearchAttributes(connection, 'default', recordingLog().log)).toBe(true);
  });

  it('warns once and returns false when the server refuses (Temporal Cloud, old servers)', async () => {
    const { connection } = fakeConnection({}, [new ServiceError('x', { cause: grpcError(GrpcCode.PERMISSION_DENIED, 'Request unauthorized.') })]);
    const { log, warnings } = recordingLog();
    expect(await registerSearchAttributes(connection, 'default', log)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/TradingMarket.*run without them/);
  });

  it('refuses attributes that exist with another type', async () => {
    const { connection, added } = fakeConnection({ TradingSide: TEXT });
    const { log, warnings } = recordingLog();
    expect(await registerSearchAttributes(connection, 'default', log)).toBe(false);
    expect(added).toEqual([]);
    expect(warnings[0]).toMatch(/TradingSide already exist with another type/);
  });

  it('asks again after a transient failure, then gives up with one warning', async () => {
    const ok = fakeConnection({}, [grpcError(GrpcCode.UNAVAILABLE, 'down'), null]);
    expect(await registerSearchAttributes(ok.connection, 'default', recordingLog().log, { retryDelayMs: 1 })).toBe(true);
    expect(ok.added).toHaveLength(2);
    const down = fakeConnection({}, [0, 1, 2, 3].map(() => grpcError(GrpcCode.UNAVAILABLE, 'down')));
    const { log, warnings } = recordingLog();
    expect(await registerSearchAttributes(down.connection, 'default', log, { retries: 3, retryDelayMs: 1 })).toBe(false);
    expect(down.added).toHaveLength(4);
    expect(warnings).toHaveLength(1);
  });
});

describe('connectTemporal without a server', () => {
  const noStart = async (): Promise<never> => {
    throw new Error('must not try to start (or download) a server');
  };

  it('fails at once, naming both variables, when TEMPORAL_CLI_PATH points to a missing file', async () => {
    const config = buildConfig({ TEMPORAL_CLI_PATH: '/nonexistent/temporal', DATA_DIR: mkdtempSync(join(tmpdir(), 'tw-')) });
    const started = Date.now();
    const error = await connectTemporal(config, recordingLog().log, noStart).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(TemporalUnavailable);
    const message = (error as Error).message;
    expect(message).toContain('TEMPORAL_ADDRESS');
    expect(message).toContain('TEMPORAL_CLI_PATH=/nonexistent/temporal does not exist');
  });

  it('fails the same way through the real SDK path, without a download', async () => {
    const config = buildConfig({ TEMPORAL_CLI_PATH: '/nonexistent/temporal', DATA_DIR: mkdtempSync(join(tmpdir(), 'tw-')) });
    await expect(connectTemporal(config, recordingLog().log)).rejects.toThrow(/TEMPORAL_ADDRESS[\s\S]*TEMPORAL_CLI_PATH/);
  });

  it('refuses a CLI path that is not executable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-'));
    const file = join(dir, 'temporal');
    writeFileSync(file, 'not a binary');
    chmodSync(file, 0o644);
    const config = buildConfig({ TEMPORAL_CLI_PATH: file, DATA_DIR: dir });
    await expect(connectTemporal(config, recordingLog().log, noStart)).rejects.toThrow(/is not executable/);
  });

  it('names both variables when the CLI is not cached, cannot be downloaded and Go is missing', async () => {
    const config = buildConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'tw-')) });
    const offline = async (): Promise<never> => {
      throw new Error('failed to download ephemeral server executable: error sending request');
    };
    const error = (await connectTemporal(config, recordingLog().log, offline, { cached: () => null, build: null }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(TemporalUnavailable);
    expect(error.message).toMatch(/TEMPORAL_CLI_PATH is not set, no CLI is cached, the Temporal CLI could not be downloaded \(failed to download/);
    expect(error.message).toMatch(/Either set TEMPORAL_ADDRESS .* or set TEMPORAL_CLI_PATH/);
  });

  it('takes the cached CLI first, then the download, then a Go build, saying which', async () => {
    const config = buildConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'tw-')) });
    const tried: unknown[] = [];
    const refuse = async (o: { server?: { executable?: unknown } }): Promise<never> => {
      tried.push(o.server?.executable);
      throw new Error('stop here');
    };
    // 1. cached: the only thing tried, and no build.
    let builds = 0;
    const build = async () => {
      builds++;
      return '/cache/built/temporal';
    };
    await expect(connectTemporal(config, recordingLog().log, refuse as never, { cached: () => '/cache/temporal', build })).rejects.toThrow(/cached CLI \/cache\/temporal did not start/);
    expect(tried).toEqual([{ type: 'existing-path', path: '/cache/temporal' }]);
    expect(builds).toBe(0);
    // 2. not cached: the download, then (refused) the build, then the built binary.
    tried.length = 0;
    const { log, infos } = recordingLog();
    await expect(connectTemporal(config, log, refuse as never, { cached: () => null, build })).rejects.toThrow(/CLI built at \/cache\/built\/temporal did not start/);
    expect(tried).toEqual([{ type: 'cached-download' }, { type: 'existing-path', path: '/cache/built/temporal' }]);
    expect(builds).toBe(1);
    expect(infos.join('\n')).toMatch(/could not be downloaded \(stop here\); building the pinned CLI with Go/);
  });

  it('starts the dev server on 127.0.0.1 with the Web UI and its database under <dataDir>/temporal', () => {
    const config = buildConfig({ DATA_DIR: '/srv/trader', TEMPORAL_CLI_PATH: '/opt/temporal', TEMPORAL_UI_PORT: '8300' });
    expect(localServerOptions(config).server).toMatchObject({
      executable: { type: 'existing-path', path: '/opt/temporal' },
      dbFilename: '/srv/trader/temporal/temporal.sqlite',
      ip: '127.0.0.1',
      port: 7233,
      ui: true,
      uiPort: 8300,
      namespace: 'default',
    });
    expect(localServerOptions(buildConfig({})).server?.executable).toEqual({ type: 'cached-download' });
    // The dev server registers the order search attributes itself as it starts.
    const attributes = (localServerOptions(config).server as { searchAttributes?: { name: string }[] }).searchAttributes?.map((k) => k.name);
    expect(attributes).toEqual(['TradingMarket', 'TradingStrategy', 'TradingSide', 'TradingOrderState']);
  });
});
