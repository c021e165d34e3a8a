/** The workflow bundle's entry: every workflow type the worker registers. */
export { orderWorkflow } from './order-workflow';
export { sessionWorkflow } from './session-workflow';
export { dailyResetWorkflow, marketResolutionWorkflow, reconciliationWorkflow, startDaySessionWorkflow } from './operations-workflows';
export { shadowSessionWorkflow } from './shadow-session';
