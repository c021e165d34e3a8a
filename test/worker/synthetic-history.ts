/**
 * A hand-built event history in the JSON form Temporal tools write: a workflow started, one
 * workflow task completed, and the activity that task scheduled. Replaying it needs no server,
 * so the replay test can prove that replay runs and that it catches a command that differs.
 */
const JSON_ENCODING = Buffer.from('json/plain').toString('base64');

function payload(value: unknown) {
  return { metadata: { encoding: JSON_ENCODING }, data: Buffer.from(JSON.stringify(value)).toString('base64') };
}

export interface SyntheticHistoryOptions {
  workflowType: string;
  /** The workflow's arguments. */
  args: unknown[];
  /** The activity the first workflow task scheduled, as recorded; null: the history ends with that task started. */
  firstActivity: string | null;
  taskQueue?: string;
  startedAt?: string;
}

export function syntheticHistory(o: SyntheticHistoryOptions): { events: Record<string, unknown>[] } {
  const taskQueue = { name: o.taskQueue ?? 'durable-trader', kind: 'TASK_QUEUE_KIND_NORMAL' };
  const at = o.startedAt ?? '2026-03-09T14:00:00Z';
  const runId = '0d6f1d2e-5a8b-4c3d-9e7f-123456789abc';
  const event = (id: number, type: string, attributesKey: string, attributes: Record<string, unknown>) => ({
    eventId: String(id),
    eventTime: at,
    eventType: type,
    taskId: String(1_048_576 + id),
    [attributesKey]: attributes,
  });
  const history: { events: Record<string, unknown>[] } = {
    events: [
      event(1, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 'workflowExecutionStartedEventAttributes', {
        workflowType: { name: o.workflowType },
        taskQueue,
        input: { payloads: o.args.map(payload) },
        workflowExecutionTimeout: '0s',
        workflowRunTimeout: '0s',
        workflowTaskTimeout: '10s',
        originalExecutionRunId: runId,
        firstExecutionRunId: runId,
        identity: 'synthetic',
        attempt: 1,
        firstWorkflowTaskBackoff: '0s',
        header: {},
      }),
      event(2, 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'workflowTaskScheduledEventAttributes', { taskQueue, startToCloseTimeout: '10s', attempt: 1 }),
      event(3, 'EVENT_TYPE_WORKFLOW_TASK_STARTED', 'workflowTaskStartedEventAttributes', { scheduledEventId: '2', identity: 'synthetic', requestId: 'r-1' }),
    ],
  };
  if (o.firstActivity === null) return history;
  history.events.push(
      event(4, 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED', 'workflowTaskCompletedEventAttributes', { scheduledEventId: '2', startedEventId: '3', identity: 'synthetic' }),
      event(5, 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', 'activityTaskScheduledEventAttributes', {
        activityId: '1',
        activityType: { name: o.firstActivity },
        taskQueue,
        header: {},
        input: { payloads: [] },
        scheduleToCloseTimeout: '0s',
        scheduleToStartTimeout: '0s',
        startToCloseTimeout: '30s',
        heartbeatTimeout: '0s',
        workflowTaskCompletedEventId: '4',
        retryPolicy: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 0 },
      }),
  );
  return history;
}
