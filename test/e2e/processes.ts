/**
 * Child processes of the end-to-end suite: tsx scripts (the exchange, workers, the dashboard) that
 * the harness waits on by their stdout lines and ends by their own pid, and one-shot commands (the
 * operator CLI) run to their exit with a time bound. Every process still alive when the test
 * process exits is SIGKILLed, so a failed or interrupted run leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../db/client';
import { trackChild, type ChildEnv } from '../../drills/child';

export { ScriptProcess, type ChildEnv } from '../../drills/child';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tsx script to its exit (SIGKILL after `timeoutMs`, reported as code null). */
export function runScript(script: string, args: readonly string[], env: ChildEnv, timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: PROJECT_ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
