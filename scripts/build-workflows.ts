/**
 * `npm run build:workflows`: the production workflow bundle, built once, for workers to load
 * instead of bundling at start (worker/worker.ts createWorker uses it while it is newer than its
 * sources). Writes dist/workflow-bundle.js and dist/workflow-bundle.js.map.
 */
import { relative } from 'node:path';
import { PROJECT_ROOT } from '../runtime/config';
import { writeWorkflowBundle } from '../worker/bundle';

const started = performance.now();
const built = await writeWorkflowBundle();
console.log(
  `Workflow bundle: ${relative(PROJECT_ROOT, built.codePath)} and ${relative(PROJECT_ROOT, built.sourceMapPath)} (${built.sources} source files) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
