/**
 * Paper exchange throughput.
 * 1. Signed order placements per second over loopback HTTP (keep-alive agent, 32 in flight),
 *    beside a trivial node:http JSON echo server driven by the same client in the same run.
 * 2. In-process engine order operations per second (place, cancel, and a matching step every
 *    1,000 operations over ~100 resting orders), beside plain Map insert/delete of an
 *    equivalent object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedHeaders, type ApiKey } from '../exchange/auth';
import { defaultEngineConfig } from '../exchange/config';
import { PaperEngine } from '../exchange/engine';
import { startPaperExchange } from '../exchange/server';
import { type BenchResult, opsPerSecond } from './harness';

const KEY: ApiKey = { keyId: 'bench', secret: 'bench-secret-0123456789abcdef' };
const CONCURRENCY = 32;

function post(agent: Agent, port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...signedHeaders(KEY, 'POST', path, body, Date.now()) };
    const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Requests per second with `CONCURRENCY` workers for `ms`, after a short warm-up. */
async function drive(port: number, ms: number, tag: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let seq = 0;
  const once = async () => {
    const n = seq++;
    const body = JSON.stringify({ clientOrderId: `${tag}-${n}`, marketId: 'PX-POL-1', side: 'BUY', quantity: 1, limitPrice: '0.01' });
    const status = await post(agent, port, '/v1/orders', body);
    if (status !== 201 && status !== 200) throw new Error(`unexpected status ${status} from ${tag}`);
  };
  const run = async (duration: number) => {
    let done = 0;
    const end = performance.now() + duration;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          await once();
          done++;
        }
      }),
    );
    return done / ((performance.now() - start) / 1_000);
  };
  await run(Math.min(300, ms / 4));
  const rate = await run(ms);
  agent.destroy();
  return rate;
}

async function httpFigures(): Promise<BenchResult[]> {
  const echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = JSON.stringify({ ok: true, bytes: Buffer.concat(chunks).length });
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoRate = await drive((echo.address() as AddressInfo).port, 1_500, 'echo');
  echo.closeAllConnections();
  await new Promise<void>((r) => echo.close(() => r()));

  const results: BenchResult[] = [];
  for (const persisted of [false, true]) {
    const dir = persisted ? mkdtempSync(join(tmpdir(), 'exchange-bench-')) : null;
    const ex = await startPaperExchange({ keys: [KEY], dataDir: dir, rateLimit: { capacity: 1e9, refillPerSecond: 1e9 } });
    const rate = await drive(ex.port, 1_500, persisted ? 'px-disk' : 'px-mem');
    await ex.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    results.push({
      name: `exchange: signed order placements over loopback HTTP${persisted ? ' (snapshot to disk per batch)' : ' (in-memory)'}`,
      figure: rate,
      unit: 'orders/s',
      baselineName: 'node:http echo server, same client',
      baselineFigure: echoRate,
      target: persisted ? undefined : 2_000,
      notes: `keep-alive, ${CONCURRENCY} in flight; client signs each request`,
    });
  }
  return results;
}

function engineFigure(): BenchResult {
  const t0 = 1_767_225_600_000;
  const engine = new PaperEngine(defaultEngineConfig(1, t0), t0);
  engine.ensureAccount('bench');
  let now = t0;
  const ids: string[] = [];
  const engineRate = opsPerSecond((i) => {
    const id = `e-${i}`;
    engine.placeOrder('bench', { clientOrderId: id, marketId: 'PX-POL-1', side: 'BUY', quantity: 1, limitPrice: 10_000 }, now);
    ids.push(id);
    if (ids.length > 100) engine.cancelOrder('bench', { clientOrderId: ids.shift()! }, now);
    if (i % 1_000 === 0) {
      now += 1_000;
      engine.advanceTo(now);
    }
  }, 2);

  const map = new Map<string, object>();
  const keys: string[] = [];
  const baseline = opsPerSecond((i) => {
    const id = `e-${i}`;
    map.set(id, { venueOrderId: id, clientOrderId: id, marketId: 'PX-POL-1', side: 'BUY', quantity: 1, limitPrice: 10_000, status: 'OPEN', createdAt: i });
    keys.push(id);
    if (keys.length > 100) map.delete(keys.shift()!);
  }, 2);
  return {
    name: 'exchange engine: place + cancel (+ a matching step per 1,000)',
    figure: engineRate,
    unit: 'ops/s',
    baselineName: 'Map insert + delete of an equivalent object',
    baselineFigure: baseline,
    target: 50_000,
    notes: '~100 resting orders; the engine keeps every order for idempotency',
  };
}

export async function run(): Promise<BenchResult[]> {
  return [...(await httpFigures()), engineFigure()];
}
