/**
 * Whether the server form of the drills can run: a Temporal server at TEMPORAL_ADDRESS, or a
 * Temporal CLI binary at TEMPORAL_CLI_PATH from which a local dev server is started. Nothing is
 * ever downloaded: without either variable the server form is skipped, and the reason says so.
 */
import { ENV } from '../../runtime/config';

export type ServerGate =
  | { configured: true; via: 'TEMPORAL_ADDRESS' | 'TEMPORAL_CLI_PATH'; value: string; describe: string }
  | { configured: false; reason: string };

export const SKIPPED_REASON =
  `server form skipped: neither ${ENV.temporalAddress} (host:port of a running Temporal server) nor ${ENV.temporalCliPath} ` +
  '(path of a Temporal CLI binary, to start a local dev server) is set; nothing is downloaded to get one';

export function serverGate(env: Readonly<Record<string, string | undefined>>): ServerGate {
  const address = env[ENV.temporalAddress]?.trim() ?? '';
  if (address !== '') return { configured: true, via: 'TEMPORAL_ADDRESS', value: address, describe: `Temporal server at ${ENV.temporalAddress}=${address}` };
  const cli = env[ENV.temporalCliPath]?.trim() ?? '';
  if (cli !== '') return { configured: true, via: 'TEMPORAL_CLI_PATH', value: cli, describe: `local Temporal dev server from ${ENV.temporalCliPath}=${cli}` };
  return { configured: false, reason: SKIPPED_REASON };
}
