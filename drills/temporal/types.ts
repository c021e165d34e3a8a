/** A drill that needs a Temporal server: the same result as the others, given the connection. */
import type { DrillResult } from '../types';
import type { DrillTemporal } from './server';

export interface ServerDrill {
  id: string;
  title: string;
  defaultTrials: number;
  quickTrials: number;
  run(options: { trials: number; seed: number; log: (line: string) => void; temporal: DrillTemporal }): Promise<DrillResult>;
}
