/**
 * Persistence of the exchange: one JSON snapshot of the engine state at <dataDir>/state.json,
 * written to a temporary file and renamed over the old one, so a crash leaves either the old
 * or the new snapshot, never half of one. Mutations are batched: every change marks the store
 * dirty, one write covers all changes made before it started, and callers that must not
 * answer before their change is on disk await `durable()` (group commit).
 *
 * The quote history lives beside it in <dataDir>/history.json, written the same way in the same
 * write loop but only when a point was added (every few minutes, not every engine step): it is
 * a thousand points a market, and rewriting it with every step would multiply the bytes written
 * a hundredfold. A crash between the two renames leaves the history a point behind the state;
 * market data, not money, so nothing depends on the two agreeing.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineState } from './engine';
import type { HistoryState } from './history';

export const STATE_FILE = 'state.json';
export const HISTORY_FILE = 'history.json';

/** The history document and its revision (a change of revision means it needs writing). */
export interface HistorySource {
  revision(): number;
  get(): HistoryState;
}

export class SnapshotStore {
  private version = 0;
  private persisted = 0;
  private writing: Promise<void> | null = null;
  private waiters: { version: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private readonly file: string;
  private readonly historyFile: string;
  private historyWritten = -1;

  constructor(
    readonly dir: string,
    private readonly getState: () => EngineState,
    private readonly history: HistorySource | null = null,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, STATE_FILE);
    this.historyFile = join(dir, HISTORY_FILE);
  }

  /** The saved state, or null when the directory has none yet. */
  load(): EngineState | null {
    return readJson<EngineState>(this.file);
  }

  /** The saved quote history, or null when there is none (a data dir from before it was kept). */
  loadHistory(): HistoryState | null {
    return readJson<HistoryState>(this.historyFile);
  }

  markDirty(): void {
    this.version++;
    if (!this.writing) this.writing = this.writeLoop();
  }

  /** Resolves once every change marked so far is on disk. */
  durable(): Promise<void> {
    if (this.persisted >= this.version) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ version: this.version, resolve, reject }));
  }

  private async writeLoop(): Promise<void> {
    // Let the current burst of synchronous mutations finish so one write covers them all.
    await new Promise((r) => setImmediate(r));
    try {
      while (this.persisted < this.version) {
        const v = this.version;
        await writeAtomically(this.file, JSON.stringify(this.getState()));
        const revision = this.history?.revision();
        if (this.history && revision !== this.historyWritten) {
          await writeAtomically(this.historyFile, JSON.stringify(this.history.get()));
          this.historyWritten = revision!;
        }
        this.persisted = v;
        const ready = this.waiters.filter((w) => w.version <= v);
        this.waiters = this.waiters.filter((w) => w.version > v);
        for (const w of ready) w.resolve();
      }
    } catch (e) {
      const failed = this.waiters;
      this.waiters = [];
      for (const w of failed) w.reject(e);
    } finally {
      this.writing = null;
    }
  }

  /** Writes whatever is pending and waits for it. */
  async flush(): Promise<void> {
    if (this.persisted < this.version && !this.writing) this.writing = this.writeLoop();
    await this.durable();
  }
}

function readJson<T>(file: string): T | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return JSON.parse(text) as T;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}
