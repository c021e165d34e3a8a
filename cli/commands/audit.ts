/**
 * `audit <clientOrderId>`: everything recorded about one order, from its signal to its final
 * state, in time order: a table, JSON on stdout, or a JSON file written entry by entry (with a
 * progress bar on a terminal) under a temporary name and renamed when complete.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { getOrder, orderAuditTrail, type StoredAuditEntry } from '../../db';
import { validateClientOrderId } from '../../domain/ids';
import type { CliContext } from '../context';
import { ArgumentCheck, CliError, ExitCode } from '../exit-codes';
import { isoTime, json, table, time } from '../format';
import { progressBar, type Progress } from '../progress';
import { withJson } from './common';
import { orderJson } from './records';

/** Trails shorter than this are written before a bar would say anything. */
const BAR_FROM_ENTRIES = 2_000;
const PAYLOAD_COLUMN = 100;

export const UNITS_NOTE = 'payload amounts and prices are integer micros (1e-6 of the currency), exactly as recorded; the order summary gives them as decimal strings';

const entryJson = (e: StoredAuditEntry) => ({
  seq: e.seq,
  kind: e.kind,
  eventKey: e.eventKey,
  occurredAt: isoTime(e.occurredAt),
  recordedAt: isoTime(e.recordedAt),
  marketId: e.marketId,
  strategy: e.strategy,
  payload: e.payload,
});

/**
 * The temporary file: a random name beside the export, created exclusively (O_CREAT|O_EXCL, which
 * never follows a symlink) and readable by its owner only, so nothing planted at a name someone
 * could guess is opened or overwritten.
 */
const temporaryName = (path: string): string => join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.partial`);

async function writeExport(path: string, head: Record<string, unknown>, entries: readonly StoredAuditEntry[], progress: Progress): Promise<void> {
  const partial = temporaryName(path);
  const out = createWriteStream(partial, { encoding: 'utf8', flags: 'wx', mode: 0o600 });
  let created = false;
  out.once('open', () => (created = true));
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
  };
  progress.start(entries.length);
  try {
    const headText = JSON.stringify(head, null, 2);
    await write(`${headText.slice(0, -2)},\n  "entries": [`);
    for (let i = 0; i < entries.length; i++) {
      await write(`${i === 0 ? '\n' : ',\n'}    ${JSON.stringify(entryJson(entries[i]!))}`);
      if (i % 100 === 0) progress.update(i);
    }
    progress.update(entries.length);
    await write(`${entries.length > 0 ? '\n  ' : ''}]\n}\n`);
    await Promise.race([new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r()))), failed]);
    renameSync(partial, path);
  } catch (e) {
    out.destroy();
    if (created) rmSync(partial, { force: true });
    throw new CliError(ExitCode.FAILURE, `could not write ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    progress.stop();
  }
}

async function audit(ctx: CliContext, id: string, opts: { out?: string; force?: boolean; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const clientOrderId = check.try('clientOrderId', id, () => validateClientOrderId(id));
  const path = opts.out === undefined ? undefined : resolve(opts.out);
  if (opts.out !== undefined && opts.out.trim() === '') check.bad('--out', opts.out, 'must be a file path');
  else if (path !== undefined && existsSync(path) && !opts.force) check.bad('--out', opts.out, 'already exists (add --force to replace it)');
  check.done();
  const db = await ctx.records();
  const order = await getOrder(db, clientOrderId!);
  const entries = await orderAuditTrail(db, clientOrderId!);
  if (order === null && entries.length === 0) throw new CliError(ExitCode.FAILURE, `no order ${clientOrderId} in the records (check the ID with: durable-trader orders)`);
  const head = { clientOrderId, exportedAt: isoTime(ctx.io.now()), units: UNITS_NOTE, order: order === null ? null : orderJson(order), entryCount: entries.length };

  if (path !== undefined) {
    await writeExport(path, head, entries, progressBar(ctx.io.progressStream, 'Exporting audit trail', BAR_FROM_ENTRIES));
    if (opts.json) ctx.out(json({ clientOrderId, file: path, entries: entries.length }));
    else ctx.out(`Wrote the audit trail of ${clientOrderId} (${entries.length} entries) to ${path}\n`);
    return ExitCode.OK;
  }
  if (opts.json) {
    ctx.out(json({ ...head, entries: entries.map(entryJson) }));
    return ExitCode.OK;
  }
  ctx.out(`Audit trail of ${clientOrderId}${order ? ` (${order.side} ${order.quantity} ${order.marketId}, now ${order.state})` : ''}: ${entries.length} entries\n`);
  ctx.out(
    table(
      [{ header: 'seq', align: 'right' }, { header: 'when' }, { header: 'kind' }, { header: 'payload (micros as recorded)' }],
      entries.map((e) => {
        const payload = JSON.stringify(e.payload);
        return [String(e.seq), time(e.occurredAt), e.kind, payload.length > PAYLOAD_COLUMN ? `${payload.slice(0, PAYLOAD_COLUMN - 1)}…` : payload];
      }),
    ),
  );
  return ExitCode.OK;
}

export function registerAuditCommand(program: Command, ctx: CliContext): void {
  withJson(program.command('audit'))
    .description("an order's full audit trail: signal, risk decision, every state change and fill, in time order")
    .argument('<clientOrderId>', 'the client order ID, e.g. ema-mr-20250101-000001')
    .option('--out <file>', 'write the trail as a JSON file (progress bar on a terminal for large trails)')
    .option('--force', 'replace the --out file if it exists')
    .action((id: string, opts) => ctx.run(() => audit(ctx, id, opts)));
}
