/** The strategy registry: one place that maps a strategy name to its factory. */
import { InvalidInput } from '../errors';
import type { Strategy } from '../strategy';
import { emaMeanReversion } from './ema-mean-reversion';
import { maCrossover } from './ma-crossover';
import { modelEdge } from './model-edge';

export const STRATEGY_NAMES = ['ema-mean-reversion', 'ma-crossover', 'model-edge'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * Builds a configured strategy from its name and param overrides (merged over its defaults and
 * validated: InvalidConfig listing every bad field). Strategy state is opaque to callers.
 */
export function createStrategy(name: StrategyName, overrides: Record<string, unknown> = {}): Strategy<unknown> {
  switch (name) {
    case 'ema-mean-reversion':
      return emaMeanReversion.create(emaMeanReversion.params(overrides)) as Strategy<unknown>;
    case 'ma-crossover':
      return maCrossover.create(maCrossover.params(overrides)) as Strategy<unknown>;
    case 'model-edge':
      return modelEdge.create(modelEdge.params(overrides)) as Strategy<unknown>;
    default:
      throw InvalidInput.of('strategy', name, `must be one of ${STRATEGY_NAMES.join(', ')}`);
  }
}
