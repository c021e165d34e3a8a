/** The bench worker's bundle entry: every production workflow plus the bare baselines. */
export * from '../../workflows/index';
export { bareLifecycleWorkflow, bareOneActivityWorkflow } from './bare';
