/** Logs and metrics for the worker process: the logger, the metrics registry and its /metrics server. */
import type { ActivityDeps } from '../activities/deps';
import { createLogger, type Logger, type LoggerOptions } from '../runtime/logging';
import { startMetricsServer, TradingMetrics, type MetricsServer } from '../runtime/metrics';
import { secretsOf, type WorkerConfig } from '../runtime/config';

export interface Observability {
  log: Logger;
  metrics: TradingMetrics;
  /** Null when METRICS_PORT=0. */
  server: MetricsServer | null;
  close(): Promise<void>;
}

/**
 * `secrets`: values held outside the worker config that must never reach a log either (the
 * dashboard token the worker serves its dashboard with).
 */
export async function startObservability(
  config: WorkerConfig,
  options: { destination?: LoggerOptions['destination']; processMetrics?: boolean; secrets?: readonly (string | null)[] } = {},
): Promise<Observability> {
  const extra = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length > 0);
  const log = createLogger({ level: config.logLevel, secrets: [...secretsOf(config), ...extra], destination: options.destination, base: { stage: config.stage } });
  const metrics = new TradingMetrics({ stage: config.stage, processMetrics: options.processMetrics ?? true });
  const server = config.metrics.port === null ? null : await startMetricsServer(metrics, { host: config.metrics.host, port: config.metrics.port, allowedHosts: config.metrics.allowedHosts });
  if (server) log.info({ event: 'stage', url: server.url }, `metrics at ${server.url}`);
  return { log, metrics, server, close: async () => server?.close() };
}

/** The activity dependencies with the logger and metrics attached. */
export function observe(deps: ActivityDeps, o: Pick<Observability, 'log' | 'metrics'>): ActivityDeps {
  return { ...deps, log: o.log, metrics: o.metrics };
}
