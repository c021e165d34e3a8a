// The modules that workflow code may not import. Shared by the
// ESLint rule and by test/unit/sandbox-imports.test.ts so the two cannot drift apart.
import { builtinModules } from 'node:module';

const nodeBuiltins = [...new Set(builtinModules.map((m) => m.replace(/^node:/, '')))];

/** Exact module names that never load in the workflow sandbox. */
export const forbiddenModules = [
  ...nodeBuiltins,
  ...nodeBuiltins.map((m) => `node:${m}`),
  'drizzle-orm',
  'postgres',
  '@electric-sql/pglite',
  'nodemailer',
  '@temporalio/activity',
  '@temporalio/worker',
  '@temporalio/client',
  '@temporalio/testing',
];

/** Import-path patterns (gitignore syntax) that reach I/O code; `import type` from them is fine. */
export const forbiddenPatterns = ['drizzle-orm/*', '**/activities', '**/activities/**', '**/db', '**/db/**', '**/worker', '**/worker/**', '**/runtime', '**/runtime/**'];

export const workflowSandboxRestrictions = {
  paths: forbiddenModules.map((name) => ({
    name,
    allowTypeImports: true,
    message: 'workflows/, domain/ and contracts/ run in the Temporal sandbox: no I/O modules (type-only imports are fine).',
  })),
  patterns: [
    {
      group: forbiddenPatterns,
      allowTypeImports: true,
      message: 'workflows/, domain/ and contracts/ may import activities, db and worker code only with `import type`.',
    },
  ],
};
