/**
 * Property tests explore new random inputs on every local run (set FC_SEED to replay one). In CI
 * they run from a fixed seed, so a red build means a change broke something, not that the dice
 * found an old edge case. New findings come from local runs and from `npm run sweeps:soak`, which
 * runs every sweep and property over fresh random seeds; each is fixed and pinned as a plain test.
 */
import fc from 'fast-check';

const fromEnv = process.env.FC_SEED;
if (fromEnv !== undefined && !/^-?\d+$/.test(fromEnv)) throw new Error(`FC_SEED must be an integer (got ${JSON.stringify(fromEnv)})`);
const seed = fromEnv !== undefined ? Number(fromEnv) : process.env.CI === 'true' ? 20261121 : undefined;
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
// The soak reads failures from vitest's JSON report, which keeps an error's message but not its cause.
if (process.env.FC_ERROR_IN_REPORT === 'true') fc.configureGlobal({ ...fc.readConfigureGlobal(), includeErrorInReport: true });
