/**
 * Child processes run as tsx scripts: the parent waits on their stdout lines and ends them by
 * their own pid (SIGKILL for a crash, SIGTERM for a stop). Every one still alive when the parent
 * exits is SIGKILLed, so a failed or interrupted run leaves nothing behind. Used by the drills and
 * by the end-to-end suite (test/e2e/processes.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../db/client';

const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of alive) p.kill('SIGKILL');
});

/** Kills `proc` when the parent exits, if it is still running then. */
export function trackChild(proc: ChildProcess): void {
  alive.add(proc);
  proc.once('exit', () => alive.delete(proc));
}

export type ChildEnv = Record<string, string | undefined>;

/** A long-running tsx script: `node --import tsx <script> [...args]` in the project root. */
export class ScriptProcess {
  readonly lines: string[] = [];
  /** The last 8 KB of stderr, for failure messages. */
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { test: (line: string) => boolean; resolve: (line: string | null) => void }[] = [];
  private readonly proc: ChildProcess;

  constructor(
    readonly name: string,
    script: string,
    env: ChildEnv,
    args: readonly string[] = [],
  ) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: PROJECT_ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(this.proc);
    let partial = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      partial += d.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        if (this.lines.length > 20_000) this.lines.splice(0, 10_000);
        for (const w of [...this.waiters]) if (w.test(line)) w.resolve(line);
      }
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8_000);
    });
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        for (const w of [...this.waiters]) w.resolve(null);
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The first line (already printed or to come) that passes `test`; null when the process exits first or the time is up. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string | null> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    if (!this.running) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = {
        test,
        resolve: (line: string | null) => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(line);
        },
      };
      const timer = setTimeout(() => waiter.resolve(null), timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** A crash: SIGKILL, then the exit. */
  async kill(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** A graceful stop (SIGTERM); SIGKILL when it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  describe(): string {
    return `${this.name} (pid ${this.pid}): last output ${JSON.stringify(this.lines.slice(-5))}, stderr ${JSON.stringify(this.stderr.slice(-1_500))}`;
  }
}

/** A drill's child: a script in drills/ (path relative to this folder), with the parent's environment plus `env`. */
export class DrillChild extends ScriptProcess {
  constructor(script: string, env: Record<string, string>) {
    super(basename(script), fileURLToPath(new URL(script, import.meta.url)), { ...process.env, ...env });
  }
}
