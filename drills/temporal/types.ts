/** A drill that needs a Temporal server: the same results as the others (its row, maybe rows of its parts), given the connection. */
import type { ActivityConfig } from '../../activities/deps';
import type { DatabaseConfig } from '../../db/client';

// ---- what a worker child (worker-child.ts) is told, in its environment (DRILL_WORKER_CHILD) ----

export interface WorkerHolds {
  /** submitOrder of these orders waits before anything is sent. */
  beforeSubmit: string[];
  /** pollOrder of these orders waits once it has recorded part of their fills (more to come). */
  betweenFills: string[];
  /** These sessions (workflow IDs) wait in their first activity after a continue-as-new. */
  continueAsNew: string[];
}

export const NO_HOLDS: WorkerHolds = { beforeSubmit: [], betweenFills: [], continueAsNew: [] };

export interface ScriptedSessions {
  /** Strategy keys of the drill's sessions: their watch is scripted. */
  strategies: string[];
  /** Of those, the ones that signal in this worker, `signalsPerRun` resting buys per session run. */
  signalling: string[];
  signalsPerRun: number;
}

export const NO_SCRIPTED_SESSIONS: ScriptedSessions = { strategies: [], signalling: [], signalsPerRun: 0 };

export interface WorkerChildSpec {
  address: string;
  /** The Temporal connection variables (TLS, API key, profile) of a remote server; empty for the drill's own dev server. */
  connectionEnv: Record<string, string>;
  namespace: string;
  taskQueue: string;
  /** The workflow bundle, built once by the drill (bundling in every child would take seconds each). */
  bundlePath: string;
  dataDir: string;
  db: DatabaseConfig;
  venueUrl: string;
  /** The venue client's wait for an answer; a held request waits out the kill within it. */
  venueTimeoutMs: number;
  config: Partial<ActivityConfig>;
  /** Added to the activities' clock (drill 5's next trading day). */
  clockOffsetMs: number;
  holds: WorkerHolds;
  scripted: ScriptedSessions;
}
