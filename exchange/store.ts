/**
 * Persistence of the exchange: one JSON snapshot of the engine state at <dataDir>/state.json,
 * written to a temporary file and renamed over the old one, so a crash leaves either the old
 * or the new snapshot, never half of one. Mutations are batched: every change marks the store
 * dirty, one write covers all changes made before it started, and callers that must not
 * answer before their change is on disk await `durable()` (group commit).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineState } from './engine';

export const STATE_FILE = 'state.json';

export class SnapshotStore {
  private version = 0;
  private persisted = 0;
  private writing: Promise<void> | null = null;
  private waiters: { version: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private readonly file: string;

  constructor(
    readonly dir: string,
    private readonly getState: () => EngineState,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, STATE_FILE);
  }

  /** The saved state, or null when the directory has none yet. */
  load(): EngineState | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return JSON.parse(text) as EngineState;
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
        const json = JSON.stringify(this.getState());
        const tmp = `${this.file}.tmp`;
        await writeFile(tmp, json, { mode: 0o600 });
        await rename(tmp, this.file);
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
