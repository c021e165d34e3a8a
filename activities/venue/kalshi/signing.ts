/**
 * Kalshi request signing and credentials (Trade API v2, "API keys" guide): every
 * authenticated request carries
 *   KALSHI-ACCESS-KEY        the API key id,
 *   KALSHI-ACCESS-TIMESTAMP  wall-clock epoch milliseconds,
 *   KALSHI-ACCESS-SIGNATURE  base64 RSA-PSS (SHA-256, MGF1-SHA-256, salt = digest length)
 *                            over timestamp + METHOD + path,
 * where the path includes the "/trade-api/v2" prefix and excludes the query string.
 */
import { constants, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { checkUrl, readEnv, Secret, type Env } from '../credentials';
import type { Signer } from '../http';

export const KALSHI_DEMO_BASE_URL = 'https://demo-api.kalshi.co/trade-api/v2';
export const KALSHI_PRODUCTION_BASE_URL = 'https://api.elections.kalshi.com/trade-api/v2';

export const KALSHI_ENV = { keyId: 'KALSHI_API_KEY_ID', privateKey: 'KALSHI_PRIVATE_KEY_PEM', baseUrl: 'KALSHI_BASE_URL' } as const;

export interface KalshiCredentials {
  baseUrl: string;
  keyId: string;
  /** The PEM text, kept only to scrub it from any echoed text; signing uses `privateKey`. */
  privateKeyPem: Secret;
  privateKey: KeyObject;
}

/** PEM from an env var may arrive with literal "\n" escapes (one-line .env files). */
function normalisePem(text: string): string {
  return text.includes('\\n') ? text.replaceAll('\\n', '\n') : text;
}

function checkPem(text: string): string | null {
  try {
    const key = createPrivateKey(normalisePem(text));
    return key.asymmetricKeyType === 'rsa' ? null : 'must be an RSA private key in PEM form';
  } catch {
    return 'must be an RSA private key in PEM form (PKCS#1 or PKCS#8)';
  }
}

/** Reads Kalshi credentials; the base URL defaults to the demo environment. */
export function loadKalshiCredentials(env: Env): KalshiCredentials {
  const v = readEnv(env, [KALSHI_ENV.keyId, KALSHI_ENV.privateKey], { [KALSHI_ENV.privateKey]: checkPem });
  const baseUrl = env[KALSHI_ENV.baseUrl]?.trim() || KALSHI_DEMO_BASE_URL;
  if (baseUrl !== KALSHI_DEMO_BASE_URL) readEnv({ [KALSHI_ENV.baseUrl]: baseUrl }, [KALSHI_ENV.baseUrl], { [KALSHI_ENV.baseUrl]: checkUrl });
  const pem = normalisePem(v[KALSHI_ENV.privateKey]);
  return { baseUrl, keyId: v[KALSHI_ENV.keyId], privateKeyPem: new Secret(pem), privateKey: createPrivateKey(pem) };
}

export function kalshiSignature(privateKey: KeyObject, timestampMs: string, method: string, path: string): string {
  return sign('sha256', Buffer.from(`${timestampMs}${method}${path}`, 'utf8'), {
    key: privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  }).toString('base64');
}

export function kalshiSigner(keyId: string, privateKey: KeyObject): Signer {
  return ({ method, path, timestampMs }) => {
    const ts = String(Math.trunc(timestampMs));
    return { 'KALSHI-ACCESS-KEY': keyId, 'KALSHI-ACCESS-TIMESTAMP': ts, 'KALSHI-ACCESS-SIGNATURE': kalshiSignature(privateKey, ts, method, path) };
  };
}
