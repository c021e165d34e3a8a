/**
 * `npm start`: the main job on embedded defaults.
 *
 * Until the Temporal worker and the paper session exist (issue 5), the main job is an honest
 * backtest of the bundled sample data through the live system's own strategy, sizing, risk,
 * fill-model and ledger code. Arguments are passed through to the backtest CLI.
 */
import { runBacktestCli } from './backtest-cli';

process.exitCode = await runBacktestCli(process.argv.slice(2));
