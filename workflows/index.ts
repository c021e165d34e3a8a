/** The workflow bundle's entry: every workflow type the worker registers. */
export { orderWorkflow } from './order-workflow';
