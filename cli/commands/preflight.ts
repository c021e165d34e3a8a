/**
 * `preflight`: the session's own go/no-go checks (venue, quote freshness, limits, reconciliation,
 * alerting), run now through the same activity the session workflow calls. Exit 3 on no-go.
 */
import type { Command } from 'commander';
import type { PreflightCheck } from '../../contracts/activities';
import { ENV } from '../../runtime/config';
import type { CliContext } from '../context';
import { ArgumentCheck, CliError, ExitCode } from '../exit-codes';
import { json, table } from '../format';
import { checkMarket, checkStrategy, withJson } from './common';

async function preflight(ctx: CliContext, opts: { strategy?: string; markets?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const strategyArg = checkStrategy(check, opts.strategy);
  const marketArgs = opts.markets === undefined ? undefined : opts.markets.split(',').map((m, i) => checkMarket(check, m.trim(), `--markets[${i}]`));
  check.done();
  const config = ctx.config();
  if (config.paperExchange === null) {
    throw new CliError(ExitCode.USAGE, `${ENV.paperUrl}, ${ENV.paperKeyId} and ${ENV.paperSecret} must be set: pre-flight checks the venue (npm run exchange starts a paper exchange)`);
  }
  const strategy = strategyArg ?? config.session.strategy;
  const marketIds = (marketArgs as string[] | undefined) ?? config.session.markets;
  ctx.checkPgliteFree();
  const [{ openActivityDeps }, { createActivities }] = await Promise.all([import('../../worker/activity-deps'), import('../../activities/index')]);
  const opened = await openActivityDeps(config);
  let checks: PreflightCheck[];
  try {
    checks = await createActivities(opened.deps).preflight({ strategy, marketIds });
  } finally {
    await opened.close();
  }
  const go = checks.every((c) => c.ok);
  if (opts.json) {
    ctx.out(json({ strategy, marketIds, go, checks }));
  } else {
    ctx.out(`Pre-flight for ${strategy} on ${marketIds.length > 0 ? marketIds.join(', ') : '(no markets: set SESSION_MARKETS or --markets)'}\n`);
    ctx.out(table([{ header: 'check' }, { header: 'ok' }, { header: 'detail' }], checks.map((c) => [c.name, c.ok ? 'yes' : 'NO', c.detail])));
    ctx.out(go ? 'GO\n' : `NO-GO: ${checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}\n`);
  }
  return go ? ExitCode.OK : ExitCode.REFUSED;
}

export function registerPreflightCommand(program: Command, ctx: CliContext): void {
  withJson(program.command('preflight'))
    .description('run the pre-flight checks now: venue reachable, market data fresh, risk config valid, reconciliation clean, alerting reachable (exit 3 on no-go)')
    .option('--strategy <key>', 'strategy key (default: the configured one)')
    .option('--markets <ids>', 'markets to check, comma-separated (default: SESSION_MARKETS)')
    .action((opts) => ctx.run(() => preflight(ctx, opts)));
}
