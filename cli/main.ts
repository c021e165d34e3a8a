/**
 * `npx durable-trader <command>` (or `npm run cli -- <command>`): the operator command line.
 * Control commands reach the session through Temporal (TEMPORAL_ADDRESS, default 127.0.0.1:7233
 * where `npm start` runs its dev server; the CLI never starts one); read commands need only the
 * records (DATABASE_URL, or PGlite under DATA_DIR). `run` is the whole CLI as a function: tests
 * call it in-process with their own output and environment.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerApprovalCommands } from './commands/approvals';
import { registerAuditCommand } from './commands/audit';
import { registerBacktestCommand } from './commands/backtest';
import { registerPreflightCommand } from './commands/preflight';
import { registerReadCommands } from './commands/records';
import { registerReconcileCommands } from './commands/reconcile';
import { registerSessionCommands } from './commands/session';
import { registerStatusCommand } from './commands/status';
import { CliContext, processIo, type CliIo } from './context';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes';

export { type CliIo } from './context';
export { ExitCode } from './exit-codes';

const ABOUT = [
  'Where things are:',
  '  Temporal   TEMPORAL_ADDRESS (default 127.0.0.1:7233, where `npm start` runs its dev server); the CLI never starts a server',
  '  records    DATABASE_URL (PostgreSQL), else PGlite under DATA_DIR (default ./data/pglite): while the worker runs, through',
  '             the loopback server it names in DATA_DIR/pglite.socket.json, so every command works beside `npm start`',
  '  who acts   --operator, else OPERATOR, else the OS user name; every command that acts is journaled before it acts',
  '',
  EXIT_CODES_HELP,
].join('\n');

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('durable-trader')
    .description('Operate the durable trader: session control, orders, positions, P&L, execution quality, alerts, reconciliation, backtests, audit exports.')
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ writeOut: (t) => ctx.out(t), writeErr: (t) => ctx.err(t) })
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false)
    .addHelpText('after', `\n${ABOUT}\n`);
  registerSessionCommands(program, ctx);
  registerStatusCommand(program, ctx);
  registerReadCommands(program, ctx);
  registerReconcileCommands(program, ctx);
  registerBacktestCommand(program, ctx);
  registerPreflightCommand(program, ctx);
  registerAuditCommand(program, ctx);
  registerApprovalCommands(program, ctx);
  for (const cmd of program.commands) addExitCodes(cmd);
  return program;
}

function addExitCodes(cmd: Command): void {
  cmd.addHelpText('after', `\n${EXIT_CODES_HELP}\n`);
  for (const sub of cmd.commands) addExitCodes(sub);
}

/** Runs one command line (without the node and script parts); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const ctx = new CliContext(io);
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    return ctx.report(e);
  } finally {
    await ctx.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv.slice(2));
}
