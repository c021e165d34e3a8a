// @ts-check
import tseslint from 'typescript-eslint';
import { workflowSandboxRestrictions } from './test/sandbox-rules.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'db/migrations/**', '.tmp/**', 'dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code, and the domain and contracts it imports, is replayed in Temporal's deterministic sandbox.
    files: ['workflows/**/*.ts', 'domain/**/*.ts', 'contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', workflowSandboxRestrictions],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'workflows/ must not read the environment; pass config in.' },
        { name: 'setInterval', message: 'Use sleep() or condition() from @temporalio/workflow.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Take time as an argument; workflows must not read the wall clock.' },
        { object: 'Math', property: 'random', message: 'Take random draws as an argument.' },
      ],
    },
  },
);
