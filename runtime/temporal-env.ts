/**
 * The Temporal connection settings users already know from the Temporal CLI and SDKs: the
 * variables and TOML profiles of the SDK's environment configuration (`@temporalio/envconfig`,
 * https://docs.temporal.io/references/client-environment-configuration). The SDK merges the
 * profile and the variables; this module validates the result, reads the certificate and key
 * files, and names the variable (or profile field) behind every problem. Key material and API
 * keys are secrets: never echoed in a message.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { Secret } from '../activities/venue/credentials';
import type { FieldProblem } from '../domain/errors';

/** The variables of the SDK's environment configuration that this project reads. */
export const TEMPORAL_ENV = {
  configFile: 'TEMPORAL_CONFIG_FILE',
  profile: 'TEMPORAL_PROFILE',
  apiKey: 'TEMPORAL_API_KEY',
  tls: 'TEMPORAL_TLS',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
  serverCaCertPath: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  serverCaCertData: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  clientCertPath: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  clientCertData: 'TEMPORAL_TLS_CLIENT_CERT_DATA',
  clientKeyPath: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  clientKeyData: 'TEMPORAL_TLS_CLIENT_KEY_DATA',
} as const;

const GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';

export interface TemporalTlsConfig {
  /** Name the server's certificate must carry (SNI); null: the host of the address. */
  serverName: string | null;
  /** PEM of the CA that signed the server's certificate; null: the system's trusted roots (Temporal Cloud). */
  serverCaCert: string | null;
  /** mTLS: the client certificate (PEM) and its private key; null: no client certificate. */
  client: { cert: string; key: Secret } | null;
}

/** What the profile and the TLS/API-key variables give, validated. */
export interface TemporalConnectionSettings {
  /** From the profile only (TEMPORAL_ADDRESS and the config file are read by config.ts). */
  profileAddress: { value: string; source: string } | null;
  profileNamespace: { value: string; source: string } | null;
  /** Null: plaintext gRPC. */
  tls: TemporalTlsConfig | null;
  apiKey: Secret | null;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_*, profile grpc_meta); values are kept out of logs. */
  grpcMeta: Record<string, string>;
  /** Where the profile came from, e.g. `profile "prod" in /home/ops/.config/temporalio/temporal.toml`; null: no file. */
  profile: string | null;
}

type Env = Readonly<Record<string, string | undefined>>;

const REDACTED = '***';
const HOST_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The file the SDK would read: TEMPORAL_CONFIG_FILE, else the OS default (Linux: $XDG_CONFIG_HOME or ~/.config, then temporalio/temporal.toml). */
function configFilePath(env: Env): { path: string; named: boolean } | null {
  const named = env[TEMPORAL_ENV.configFile];
  if (named !== undefined) return { path: named, named: true };
  if (process.platform === 'win32') return env.APPDATA ? { path: join(env.APPDATA, 'temporalio', 'temporal.toml'), named: false } : null;
  const home = env.HOME ?? (env === process.env ? homedir() : undefined);
  if (process.platform === 'darwin') return home ? { path: join(home, 'Library', 'Application Support', 'temporalio', 'temporal.toml'), named: false } : null;
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return { path: join(xdg, 'temporalio', 'temporal.toml'), named: false };
  return home ? { path: join(home, '.config', 'temporalio', 'temporal.toml'), named: false } : null;
}

function errnoText(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.name : 'error');
}

/** PEM text from a one-line variable may carry literal "\n" escapes. */
function pemText(text: string): string {
  return text.includes('\\n') ? text.replaceAll('\\n', '\n') : text;
}

/**
 * Reads the Temporal profile (TOML) and the connection variables through the SDK, then checks
 * them. `root` resolves relative certificate paths. Problems are appended to `problems`.
 */
export function readTemporalConnection(env: Env, root: string, problems: FieldProblem[]): TemporalConnectionSettings {
  // Empty variables count as unset, as everywhere else in the config.
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') clean[k] = v.trim();
  const none: TemporalConnectionSettings = { profileAddress: null, profileNamespace: null, tls: null, apiKey: null, grpcMeta: {}, profile: null };
  const report = (field: string, value: unknown, problem: string): void => {
    problems.push({ field, value, problem });
  };

  // The TOML file: read here so that a named but missing or unreadable file is an error, not silence.
  const file = configFilePath(clean);
  let toml: string | null = null;
  if (file !== null) {
    try {
      toml = readFileSync(isAbsolute(file.path) ? file.path : resolve(root, file.path), 'utf8');
    } catch (e) {
      if (file.named || errnoText(e) !== 'ENOENT') {
        report(file.named ? TEMPORAL_ENV.configFile : `Temporal config file ${file.path}`, file.path, `cannot be read (${errnoText(e)})`);
        return none;
      }
    }
  }
  const profileName = clean[TEMPORAL_ENV.profile] ?? 'default';
  if (toml === null && clean[TEMPORAL_ENV.profile] !== undefined) {
    report(TEMPORAL_ENV.profile, profileName, `names a profile but there is no Temporal config file (set ${TEMPORAL_ENV.configFile}, or create ${file?.path ?? '~/.config/temporalio/temporal.toml'})`);
    return none;
  }
  const label = toml === null ? null : `profile "${profileName}" in ${file!.path}`;

  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      overrideEnvVars: clean,
      profile: clean[TEMPORAL_ENV.profile],
      ...(toml === null ? { disableFile: true } : { configSource: { data: toml } }),
    });
  } catch (e) {
    // The parser's message may quote a line of the file, and a line may hold an API key: first line only.
    const first = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
    const field = /Profile '.*' not found/.test(first) ? TEMPORAL_ENV.profile : file?.named ? TEMPORAL_ENV.configFile : (label ?? TEMPORAL_ENV.configFile);
    report(field, field === TEMPORAL_ENV.profile ? profileName : file?.path, /Profile '.*' not found/.test(first) ? `is not a profile in ${file?.path}` : `is not a valid Temporal config file (${first})`);
    return none;
  }

  /** The variable that set a value, else the profile field (the SDK lets variables win). */
  const source = (envName: string | null, tomlKey: string): string => (envName !== null && clean[envName] !== undefined ? envName : `${label ?? 'Temporal profile'} ${tomlKey}`);

  const profileAddress = profile.address !== undefined && clean.TEMPORAL_ADDRESS === undefined ? { value: String(profile.address).trim(), source: source(null, 'address') } : null;
  const profileNamespace = profile.namespace !== undefined && clean.TEMPORAL_NAMESPACE === undefined ? { value: String(profile.namespace).trim(), source: source(null, 'namespace') } : null;

  let apiKey: Secret | null = null;
  if (profile.apiKey !== undefined) {
    const text = String(profile.apiKey).trim();
    if (/^[\x21-\x7e]+$/.test(text)) apiKey = new Secret(text);
    else report(source(TEMPORAL_ENV.apiKey, 'api_key'), REDACTED, 'must be printable ASCII without spaces (it is sent as an authorization header)');
  }

  const tlsVar = clean[TEMPORAL_ENV.tls];
  if (tlsVar !== undefined && !['true', 'false', '1', '0'].includes(tlsVar)) report(TEMPORAL_ENV.tls, tlsVar, 'must be true or false');

  const t = profile.tls;
  // The SDK's rule: TLS when a tls table or variable is given and not disabled, or when an API key is.
  const tlsOn = t !== undefined ? t.disabled !== true : apiKey !== null;
  let tls: TemporalTlsConfig | null = null;
  if (tlsOn) {
    let serverName: string | null = null;
    if (t?.serverName !== undefined) {
      const name = String(t.serverName).trim();
      if (HOST_RE.test(name)) serverName = name;
      else report(source(TEMPORAL_ENV.serverName, 'tls.server_name'), t.serverName, 'must be a host name, e.g. temporal.example.com');
    }
    const read = (src: ConfigDataSource | undefined, pathVar: string, dataVar: string, key: string): { text: string; field: string } | null => {
      if (src === undefined) return null;
      if ('path' in src) {
        const field = source(pathVar, `tls.${key}_path`);
        const path = String(src.path).trim();
        try {
          return { text: readFileSync(isAbsolute(path) ? path : resolve(root, path), 'utf8'), field };
        } catch (e) {
          report(field, path, `cannot be read (${errnoText(e)})`);
          return null;
        }
      }
      const text = typeof src.data === 'string' ? src.data : Buffer.from(src.data).toString('utf8');
      return { text: pemText(text), field: source(dataVar, `tls.${key}_data`) };
    };
    const certProblem = (pem: string): string | null => {
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'is not a PEM certificate (-----BEGIN CERTIFICATE-----)';
      try {
        new X509Certificate(pem);
        return null;
      } catch (e) {
        return `is not a readable PEM certificate (${e instanceof Error ? e.message.split('\n')[0] : 'invalid'})`;
      }
    };
    let serverCaCert: string | null = null;
    const ca = read(t?.serverCACert, TEMPORAL_ENV.serverCaCertPath, TEMPORAL_ENV.serverCaCertData, 'server_ca_cert');
    if (ca !== null) {
      const problem = certProblem(ca.text);
      // A path is named, never its content; a data variable's value is shown cut short.
      if (problem === null) serverCaCert = ca.text;
      else report(ca.field, ca.field.endsWith('PATH') || ca.field.endsWith('_path') ? String((t!.serverCACert as { path: string }).path) : ca.text.slice(0, 40), problem);
    }
    let client: TemporalTlsConfig['client'] = null;
    const cert = read(t?.clientCert, TEMPORAL_ENV.clientCertPath, TEMPORAL_ENV.clientCertData, 'client_cert');
    const key = read(t?.clientKey, TEMPORAL_ENV.clientKeyPath, TEMPORAL_ENV.clientKeyData, 'client_key');
    if ((t?.clientCert === undefined) !== (t?.clientKey === undefined)) {
      const missing = t?.clientCert === undefined ? `${TEMPORAL_ENV.clientCertPath} (or ${TEMPORAL_ENV.clientCertData})` : `${TEMPORAL_ENV.clientKeyPath} (or ${TEMPORAL_ENV.clientKeyData})`;
      const given = t?.clientCert === undefined ? source(TEMPORAL_ENV.clientKeyPath, 'tls.client_key') : source(TEMPORAL_ENV.clientCertPath, 'tls.client_cert');
      report(given, undefined, `is set without ${missing}: mTLS needs the client certificate and its private key`);
    }
    let x509: X509Certificate | null = null;
    if (cert !== null) {
      const problem = certProblem(cert.text);
      if (problem === null) x509 = new X509Certificate(cert.text);
      else report(cert.field, cert.field.endsWith('PATH') || cert.field.endsWith('_path') ? String((t!.clientCert as { path: string }).path) : cert.text.slice(0, 40), problem);
    }
    if (key !== null) {
      // The key file's content is a secret: a bad key is named by its variable or path, never echoed.
      const shown = 'path' in t!.clientKey! ? String(t!.clientKey.path) : REDACTED;
      let keyObject: ReturnType<typeof createPrivateKey> | null = null;
      try {
        keyObject = createPrivateKey(key.text);
      } catch {
        report(key.field, shown, 'is not a PEM private key');
      }
      if (keyObject !== null && x509 !== null) {
        if (x509.checkPrivateKey(keyObject)) client = { cert: cert!.text, key: new Secret(key.text) };
        else report(key.field, shown, `does not belong to the client certificate (${cert!.field})`);
      }
    }
    tls = { serverName, serverCaCert, client };
  }

  const grpcMeta: Record<string, string> = {};
  for (const [k, v] of Object.entries(profile.grpcMeta ?? {})) {
    const name = k.toLowerCase();
    if (/^[a-z0-9_.-]+$/.test(name) && /^[\x20-\x7e]*$/.test(v)) grpcMeta[name] = v;
    else report(`${GRPC_META_PREFIX}${k.toUpperCase().replaceAll('-', '_')}`, REDACTED, 'must be a header name of letters, digits, "-", "_" or "." with a printable ASCII value');
  }
  if (apiKey !== null && 'authorization' in grpcMeta) report(`${GRPC_META_PREFIX}AUTHORIZATION`, REDACTED, `cannot be combined with ${TEMPORAL_ENV.apiKey}: the API key is sent as the authorization header`);

  return { profileAddress, profileNamespace, tls, apiKey, grpcMeta, profile: label };
}

/** Secret values of the connection settings, for the log scrubber. */
export function connectionSecrets(s: Pick<TemporalConnectionSettings, 'tls' | 'apiKey' | 'grpcMeta'>): string[] {
  const out: string[] = [];
  if (s.apiKey !== null) out.push(s.apiKey.reveal());
  const key = s.tls?.client?.key.reveal();
  if (key !== undefined) out.push(key, ...key.split('\n').map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----')));
  out.push(...Object.values(s.grpcMeta).filter((v) => v.length >= 8));
  return out;
}

/**
 * The variables a child process needs to reach the same remote server the same way (drills and
 * benchmarks that spawn workers build their config from a chosen few variables, not the whole
 * environment): every TEMPORAL_* connection setting and where the default profile file lives.
 */
export function temporalConnectionEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  const wanted = new Set<string>([...Object.values(TEMPORAL_ENV), 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'HOME', 'XDG_CONFIG_HOME', 'APPDATA']);
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (wanted.has(k) || k.startsWith(GRPC_META_PREFIX))) out[k] = v;
  return out;
}
