/**
 * Connecting to a Temporal server over TLS, mTLS and with an API key, for real on loopback: a
 * TLS-terminating proxy written here (node:tls, ALPN h2) forwards bytes to the dev server's
 * plaintext gRPC port; the CA, server and client certificates are made with openssl per run.
 * The settings come from the SDK's environment configuration variables and TOML profiles,
 * validated by runtime/config.ts; every connection is made by runtime/temporal.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientOrderId, orderWorkflowId } from '../../domain/ids';
import { InvalidInput } from '../../domain/errors';
import { buildConfig, describeConfig, secretsOf, type Env, type WorkerConfig } from '../../runtime/config';
import { scrubSecrets } from '../../runtime/logging';
import { connectClientConnection, connectTemporal, connectWorkerConnection, temporalConnectionOptions, tlsHandshakeProblem, type TemporalHandle } from '../../runtime/temporal';
import { temporalConnectionEnv } from '../../runtime/temporal-env';
import type { orderWorkflow } from '../../workflows';
import { FakeWorld } from '../worker/fake-activities';
import { testOrderInput } from '../support/server-sessions';
import { describeOnServer, temporalServerForFile } from '../support/temporal-server';

const SERVER_NAME = 'temporal.test';
const API_KEY = 'tmprl-test-key-6f1c2b9e0d4a4c7e';

// ---- certificates (openssl, per run) ----

const dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
const path = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function makeCa(name: string, cn: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

function makeLeaf(name: string, cn: string, ca: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(path(`${name}.ext`), ext);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

makeCa('ca', 'Desk Test CA');
makeCa('other-ca', 'Somebody Else CA');
makeLeaf('server', SERVER_NAME, 'ca', `subjectAltName=DNS:${SERVER_NAME}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
makeLeaf('client', 'desk-worker-1', 'ca', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
makeLeaf('stranger', 'stranger', 'other-ca', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
const pem = (name: string) => readFileSync(path(name), 'utf8');

// ---- the TLS-terminating proxy ----

interface Proxy {
  address: string;
  /** TLS sessions established and forwarded to the dev server. */
  forwarded: number;
  /** Client certificates' common names, for mTLS. */
  clientNames: string[];
  /** Handshakes the proxy refused, with the reason. */
  refused: string[];
  close(): Promise<void>;
}

async function tlsProxy(target: { host: string; port: number }, requireClientCert: boolean): Promise<Proxy> {
  const proxy: Proxy = { address: '', forwarded: 0, clientNames: [], refused: [], close: async () => undefined };
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      key: pem('server.key'),
      cert: pem('server.crt'),
      ALPNProtocols: ['h2'],
      ...(requireClientCert && { requestCert: true, rejectUnauthorized: true, ca: [pem('ca.crt')] }),
    },
    (socket) => {
      proxy.forwarded++;
      if (requireClientCert) proxy.clientNames.push(String(socket.getPeerCertificate().subject?.CN));
      const upstream = net.connect(target.port, target.host);
      sockets.add(socket).add(upstream);
      const end = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      socket.pipe(upstream).pipe(socket);
    },
  );
  server.on('tlsClientError', (e) => proxy.refused.push(e.message));
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

/** A TLS HTTP/2 endpoint that records each gRPC call's headers and answers UNAUTHENTICATED. */
async function headerRecorder(): Promise<{ address: string; calls: http2.IncomingHttpHeaders[]; close(): Promise<void> }> {
  const calls: http2.IncomingHttpHeaders[] = [];
  const server = http2.createSecureServer({ key: pem('server.key'), cert: pem('server.crt'), ALPNProtocols: ['h2'] });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => sessions.add(s));
  server.on('stream', (stream, headers) => {
    calls.push(headers);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'recorded' }, { endStream: true });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const quietLog = () => {
  const lines: string[] = [];
  return { lines, log: { info: (m: string, meta?: unknown) => void lines.push(`${m} ${JSON.stringify(meta ?? '')}`), warn: (m: string, meta?: unknown) => void lines.push(`${m} ${JSON.stringify(meta ?? '')}`) } };
};

function configProblems(env: Env): { field: string; value: unknown; problem: string }[] {
  try {
    buildConfig(env);
  } catch (e) {
    if (e instanceof InvalidInput) return e.problems;
    throw e;
  }
  return [];
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---- the settings, without a server ----

describe('Temporal connection settings (SDK environment configuration)', () => {
  const tlsEnv: Env = {
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: path('ca.crt'),
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    TEMPORAL_TLS_CLIENT_CERT_PATH: path('client.crt'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: path('client.key'),
  };

  it('turns the TLS variables into the SDK options: server CA, server name and the mTLS pair', () => {
    const config = buildConfig(tlsEnv);
    const o = temporalConnectionOptions(config.temporal);
    expect(o.address).toBe('127.0.0.1:7233');
    expect(o.tls).not.toBe(false);
    if (o.tls === false) return;
    expect(o.tls.serverNameOverride).toBe(SERVER_NAME);
    expect(Buffer.from(o.tls.serverRootCACertificate!).toString()).toBe(pem('ca.crt'));
    expect(Buffer.from(o.tls.clientCertPair!.crt).toString()).toBe(pem('client.crt'));
    expect(Buffer.from(o.tls.clientCertPair!.key).toString()).toBe(pem('client.key'));
    expect(o.apiKey).toBeUndefined();
    // The CLI's connection to the local dev server (another address) stays plaintext.
    expect(temporalConnectionOptions(config.temporal, '127.0.0.1:7299')).toEqual({ address: '127.0.0.1:7299', tls: false });
  });

  it('an API key turns TLS on with the system CAs, as the SDK does, and is sent as the API key option', () => {
    const o = temporalConnectionOptions(buildConfig({ TEMPORAL_ADDRESS: 'desk.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'desk.a1b2c', TEMPORAL_API_KEY: API_KEY }).temporal);
    expect(o).toEqual({ address: 'desk.a1b2c.tmprl.cloud:7233', tls: {}, apiKey: API_KEY });
    expect(temporalConnectionOptions(buildConfig({ TEMPORAL_ADDRESS: '10.0.0.5:7233', TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' }).temporal).tls).toBe(false);
    expect(temporalConnectionOptions(buildConfig({ TEMPORAL_ADDRESS: '10.0.0.5:7233' }).temporal)).toEqual({ address: '10.0.0.5:7233', tls: false });
  });

  it('the API key and the client key never reach a log line or the described config', () => {
    const config = buildConfig({ ...tlsEnv, TEMPORAL_API_KEY: API_KEY });
    const described = JSON.stringify(describeConfig(config));
    expect(described).not.toContain(API_KEY);
    expect(described).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(config)).not.toContain(API_KEY);
    const secrets = secretsOf(config);
    expect(secrets).toContain(API_KEY);
    const keyLine = pem('client.key').split('\n')[1]!;
    expect(scrubSecrets(`oops ${API_KEY} and ${keyLine}`, secrets)).not.toMatch(new RegExp(`${API_KEY}|${keyLine.replace(/[+/]/g, '.')}`));
  });

  it('a profile in a TOML file gives address, namespace and TLS; a variable overrides the profile', () => {
    const toml = path('temporal.toml');
    writeFileSync(
      toml,
      `[profile.default]\naddress = "127.0.0.1:1111"\n\n[profile.prod]\naddress = "prod.desk.internal:7233"\nnamespace = "trading"\n\n[profile.prod.tls]\nserver_ca_cert_path = "${path('ca.crt')}"\nserver_name = "${SERVER_NAME}"\n`,
    );
    const prod = buildConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }).temporal;
    expect(prod).toMatchObject({ address: 'prod.desk.internal:7233', namespace: 'trading', profile: `profile "prod" in ${toml}` });
    expect(prod.tls).toMatchObject({ serverName: SERVER_NAME, serverCaCert: pem('ca.crt'), client: null });
    expect(buildConfig({ TEMPORAL_CONFIG_FILE: toml }).temporal.address).toBe('127.0.0.1:1111');
    const overridden = buildConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_ADDRESS: '127.0.0.1:2222', TEMPORAL_NAMESPACE: 'other' }).temporal;
    expect(overridden).toMatchObject({ address: '127.0.0.1:2222', namespace: 'other' });
    // The project's own config file sits between the variable and the profile.
    expect(buildConfig({ TEMPORAL_CONFIG_FILE: toml }, { temporal: { address: '127.0.0.1:3333' } }).temporal.address).toBe('127.0.0.1:3333');
    expect(configProblems({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' })).toEqual([expect.objectContaining({ field: 'TEMPORAL_PROFILE', value: 'staging' })]);
    expect(configProblems({ TEMPORAL_CONFIG_FILE: path('missing.toml') })).toEqual([expect.objectContaining({ field: 'TEMPORAL_CONFIG_FILE', problem: 'cannot be read (ENOENT)' })]);
    const broken = path('broken.toml');
    writeFileSync(broken, `[profile.default]\napi_key = "${API_KEY}\n`);
    const problems = configProblems({ TEMPORAL_CONFIG_FILE: broken });
    expect(problems.map((p) => p.field)).toEqual(['TEMPORAL_CONFIG_FILE']);
    expect(JSON.stringify(problems)).not.toContain(API_KEY);
  });

  it('bad certificate settings are refused naming the variable, never echoing key material', () => {
    const missing = configProblems({ ...tlsEnv, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path('nope.crt') });
    expect(missing).toEqual([{ field: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', value: path('nope.crt'), problem: 'cannot be read (ENOENT)' }]);
    expect(configProblems({ ...tlsEnv, TEMPORAL_TLS_SERVER_CA_CERT_PATH: dir })).toEqual([expect.objectContaining({ field: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', problem: 'cannot be read (EISDIR)' })]);
    // A key given where the certificate belongs: named by its path, its content not shown.
    const keyAsCert = configProblems({ ...tlsEnv, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path('client.key') });
    expect(keyAsCert).toEqual([expect.objectContaining({ field: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', value: path('client.key'), problem: expect.stringMatching(/not a PEM certificate/) })]);
    expect(JSON.stringify(keyAsCert)).not.toContain('PRIVATE KEY');
    const wrongKey = configProblems({ ...tlsEnv, TEMPORAL_TLS_CLIENT_KEY_PATH: path('stranger.key') });
    expect(wrongKey).toEqual([expect.objectContaining({ field: 'TEMPORAL_TLS_CLIENT_KEY_PATH', problem: expect.stringMatching(/does not belong to the client certificate/) })]);
    const badKeyData = configProblems({ ...tlsEnv, TEMPORAL_TLS_CLIENT_KEY_PATH: undefined, TEMPORAL_TLS_CLIENT_KEY_DATA: 'secret-not-a-key-0123456789' });
    expect(badKeyData).toEqual([{ field: 'TEMPORAL_TLS_CLIENT_KEY_DATA', value: '***', problem: 'is not a PEM private key' }]);
    expect(configProblems({ ...tlsEnv, TEMPORAL_TLS_CLIENT_KEY_PATH: undefined })).toEqual([expect.objectContaining({ field: 'TEMPORAL_TLS_CLIENT_CERT_PATH', problem: expect.stringMatching(/without TEMPORAL_TLS_CLIENT_KEY_PATH/) })]);
    expect(configProblems({ ...tlsEnv, TEMPORAL_TLS_SERVER_NAME: 'not a host!' })).toEqual([expect.objectContaining({ field: 'TEMPORAL_TLS_SERVER_NAME', value: 'not a host!' })]);
    expect(configProblems({ ...tlsEnv, TEMPORAL_TLS: 'yes' })).toEqual([expect.objectContaining({ field: 'TEMPORAL_TLS', value: 'yes', problem: 'must be true or false' })]);
    // Data variables work too, with one-line "\n" escapes.
    const inline = buildConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_TLS_SERVER_CA_CERT_DATA: pem('ca.crt').replaceAll('\n', '\\n') }).temporal.tls;
    expect(inline?.serverCaCert).toBe(pem('ca.crt'));
  });

  it('TLS or an API key without TEMPORAL_ADDRESS is refused: a local dev server is plaintext', () => {
    expect(configProblems({ TEMPORAL_API_KEY: API_KEY })).toEqual([expect.objectContaining({ field: 'TEMPORAL_API_KEY', problem: expect.stringMatching(/set TEMPORAL_ADDRESS/) })]);
    expect(JSON.stringify(configProblems({ TEMPORAL_API_KEY: API_KEY }))).not.toContain(API_KEY);
    expect(configProblems({ TEMPORAL_TLS: 'true' })).toEqual([expect.objectContaining({ field: 'TEMPORAL_TLS' })]);
  });

  it('worker children of the drills get the connection variables of a remote server', () => {
    expect(temporalConnectionEnv({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME, TEMPORAL_GRPC_META_X_DESK: 'a', DATABASE_URL: 'postgres://x', STAGE: 'LIVE' })).toEqual({
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      TEMPORAL_GRPC_META_X_DESK: 'a',
    });
  });

  it('the API key goes on the wire as "authorization: Bearer", from the client and from the worker connection', async () => {
    const recorder = await headerRecorder();
    try {
      const config = buildConfig({ TEMPORAL_ADDRESS: recorder.address, TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path('ca.crt'), TEMPORAL_TLS_SERVER_NAME: SERVER_NAME });
      await expect(connectClientConnection(config.temporal, { connectTimeout: '5 seconds' })).rejects.toThrow(/Failed to connect/);
      const fromClient = recorder.calls.length;
      expect(fromClient).toBeGreaterThan(0);
      const worker = await connectWorkerConnection(config.temporal).then(
        (c) => c.close().then(() => null),
        (e: unknown) => e,
      );
      expect(String(worker)).toMatch(/valid authentication credentials/);
      expect(recorder.calls.length).toBeGreaterThan(fromClient);
      for (const h of recorder.calls) expect(h.authorization).toBe(`Bearer ${API_KEY}`);
    } finally {
      await recorder.close();
    }
  }, 30_000);
});

// ---- for real, through the TLS proxy in front of the dev server ----

const found = await temporalServerForFile();

describeOnServer(found, 'Temporal over TLS on loopback', (server) => {
  const [host, port] = [server.address.slice(0, server.address.lastIndexOf(':')), Number(server.address.slice(server.address.lastIndexOf(':') + 1))];
  const target = { host: host === 'localhost' ? '127.0.0.1' : host, port };
  let plainTls: Proxy;
  let mutualTls: Proxy;
  const dataDir = mkdtempSync(join(tmpdir(), 'temporal-tls-data-'));
  const configFor = (proxy: Proxy, extra: Env = {}): WorkerConfig =>
    buildConfig({ TEMPORAL_ADDRESS: proxy.address, TEMPORAL_NAMESPACE: server.namespace, DATA_DIR: dataDir, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path('ca.crt'), ...extra });

  beforeAll(async () => {
    plainTls = await tlsProxy(target, false);
    mutualTls = await tlsProxy(target, true);
  });
  afterAll(async () => {
    await Promise.all([plainTls?.close(), mutualTls?.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs one order workflow to FILLED with a worker and a client both connected through `handle`. */
  async function runOrder(handle: TemporalHandle): Promise<void> {
    const world = new FakeWorld();
    const taskQueue = server.unique('tls-tq');
    const worker = await Worker.create({ connection: handle.nativeConnection, namespace: handle.namespace, taskQueue, workflowBundle: server.bundle(), activities: world.activities(), shutdownGraceTime: '2 seconds' });
    const running = worker.run();
    try {
      const today = new Date().toISOString().slice(0, 10);
      const coid = makeClientOrderId(server.unique('tls'), today, 1);
      const order = await handle.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(coid), args: [testOrderInput(coid, 10, 60_000, today)] });
      const result = await order.result();
      expect(result.state).toBe('FILLED');
      expect(result.filledQuantity).toBe(10);
      expect(world.placements.get(coid)).toBe(1);
    } finally {
      worker.shutdown();
      await running;
    }
  }

  it('the worker and the client connect through TLS with the configured CA and server name, and run an order', async () => {
    const { lines, log } = quietLog();
    const before = plainTls.forwarded;
    const handle = await connectTemporal(configFor(plainTls), log);
    try {
      expect(handle.local).toBe(false);
      await runOrder(handle);
    } finally {
      await handle.close();
    }
    // The client (grpc-js) and the worker (Rust core) each opened their own TLS session.
    expect(plainTls.forwarded - before).toBeGreaterThanOrEqual(2);
    expect(lines.join('\n')).toMatch(/TLS, server name temporal\.test, configured CA/);
  }, 90_000);

  it('a CA that did not sign the server certificate is refused, by the client and by the worker connection', async () => {
    const config = configFor(plainTls, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: path('other-ca.crt') });
    const error = await connectTemporal(config, quietLog().log).then(
      (h) => h.close().then(() => null),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(new RegExp(`TEMPORAL_ADDRESS=${plainTls.address} could not be reached \\(TLS, server name temporal\\.test, configured CA`));
    // The gRPC client only says it failed to connect; the handshake probe says why.
    expect(error!.message).toMatch(/TLS handshake: (unable to verify the first certificate|self-signed certificate in certificate chain|unable to get local issuer certificate)/);
    const worker = await connectWorkerConnection(config.temporal).then(
      (c) => c.close().then(() => null),
      (e: unknown) => e as Error,
    );
    expect(worker).toBeInstanceOf(Error);
    expect(String(worker?.message) + String((worker?.cause as Error | undefined)?.message)).toMatch(/certificate|UnknownIssuer|invalid peer|tls|transport/i);
    // A server name the certificate does not carry is refused too.
    const wrongName = await connectClientConnection(configFor(plainTls, { TEMPORAL_TLS_SERVER_NAME: 'elsewhere.test' }).temporal, { connectTimeout: '3 seconds' }).then(
      (c) => c.close().then(() => null),
      (e: unknown) => e as Error,
    );
    expect(wrongName).toBeInstanceOf(Error);
    expect(await tlsHandshakeProblem(configFor(plainTls, { TEMPORAL_TLS_SERVER_NAME: 'elsewhere.test' }).temporal, plainTls.address)).toMatch(/TLS handshake: Hostname\/IP does not match certificate's altnames: Host: elsewhere\.test/);
    expect(await tlsHandshakeProblem(configFor(plainTls).temporal, plainTls.address)).toBeNull();
  }, 60_000);

  it('when the server requires a client certificate: none is refused, one from another CA is refused, the configured pair connects and runs an order', async () => {
    const none = await connectClientConnection(configFor(mutualTls).temporal, { connectTimeout: '3 seconds' }).then(
      (c) => c.close().then(() => null),
      (e: unknown) => e as Error,
    );
    expect(none).toBeInstanceOf(Error);
    expect(mutualTls.refused.join('\n')).toMatch(/peer did not return a certificate|certificate required/i);
    expect(await tlsHandshakeProblem(configFor(mutualTls).temporal, mutualTls.address)).toMatch(/TLS handshake: .*certificate required/i);
    const noneWorker = await connectWorkerConnection(configFor(mutualTls).temporal).then(
      (c) => c.close().then(() => null),
      (e: unknown) => e as Error,
    );
    expect(noneWorker).toBeInstanceOf(Error);

    const refusedBefore = mutualTls.refused.length;
    const stranger = await connectClientConnection(configFor(mutualTls, { TEMPORAL_TLS_CLIENT_CERT_PATH: path('stranger.crt'), TEMPORAL_TLS_CLIENT_KEY_PATH: path('stranger.key') }).temporal, { connectTimeout: '3 seconds' }).then(
      (c) => c.close().then(() => null),
      (e: unknown) => e as Error,
    );
    expect(stranger).toBeInstanceOf(Error);
    expect(mutualTls.refused.slice(refusedBefore).join('\n')).toMatch(/unable to verify|unknown ca|certificate/i);
    expect(mutualTls.forwarded).toBe(0);

    const handle = await connectTemporal(configFor(mutualTls, { TEMPORAL_TLS_CLIENT_CERT_PATH: path('client.crt'), TEMPORAL_TLS_CLIENT_KEY_PATH: path('client.key') }), quietLog().log);
    try {
      await runOrder(handle);
    } finally {
      await handle.close();
    }
    expect(mutualTls.clientNames.length).toBeGreaterThanOrEqual(2);
    expect(new Set(mutualTls.clientNames)).toEqual(new Set(['desk-worker-1']));
  }, 90_000);

  it('with an API key (Temporal Cloud style) through the TLS endpoint, client and worker connect (the dev server ignores the key)', async () => {
    const { lines, log } = quietLog();
    const handle = await connectTemporal(configFor(plainTls, { TEMPORAL_API_KEY: API_KEY }), log);
    try {
      const described = await handle.connection.workflowService.describeNamespace({ namespace: server.namespace });
      expect(described.namespaceInfo?.name).toBe(server.namespace);
    } finally {
      await handle.close();
    }
    expect(lines.join('\n')).toMatch(/API key/);
    expect(lines.join('\n')).not.toContain(API_KEY);
  }, 60_000);
});
