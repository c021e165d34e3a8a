import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const quiet = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined };

/** Module paths webpack bundled, from its module-id comments (the source map is cut off first). */
function bundledModules(code: string): string[] {
  const body = code.split('//# sourceMappingURL=')[0] ?? '';
  return [...body.matchAll(/\/\*\*\*\/ "([^"]+)"/g)].map((m) => m[1]!);
}

describe('workflow bundle', () => {
  it('bundles workflows/ with the SDK bundler, pulling in no Node built-ins or I/O libraries', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: join(root, 'workflows', 'index.ts'), logger: quiet });
    const modules = bundledModules(code);
    expect(modules.some((m) => m.includes('workflows/order-workflow.ts'))).toBe(true);
    const io = modules.filter((m) => /node_modules\/(drizzle-orm|postgres|nodemailer|@electric-sql|@temporalio\/(activity|client|worker|testing))\//.test(m));
    expect(io).toEqual([]);
    const ours = modules.filter((m) => /\/(activities|db|worker|exchange)\//.test(m) && !m.includes('node_modules'));
    expect(ours).toEqual([]);
  }, 120_000);

  it('refuses a workflow that imports a Node built-in (the check can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-workflow-'));
    const file = join(dir, 'bad.ts');
    writeFileSync(file, "import { readFileSync } from 'node:fs';\nexport async function bad(): Promise<string> { return String(readFileSync); }\n");
    const errors: string[] = [];
    const logger = { ...quiet, error: (m: string, meta?: unknown) => void errors.push(`${m} ${JSON.stringify(meta ?? '')}`) };
    await expect(bundleWorkflowCode({ workflowsPath: file, logger })).rejects.toThrow(/Webpack finished with errors/);
    expect(errors.join('\n')).toMatch(/fs/);
  }, 120_000);
});
