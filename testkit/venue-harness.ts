/** Builders for the venues under test: the paper exchange in-process and the Kalshi double. */
import { generateKeyPairSync } from 'node:crypto';
import { startPaperExchange, type PaperExchange, type PaperExchangeOptions } from '../exchange/server';
import { Secret } from '../activities/venue/credentials';
import { createKalshiVenue, type KalshiVenueOptions } from '../activities/venue/kalshi/kalshi-venue';
import { loadKalshiCredentials } from '../activities/venue/kalshi/signing';
import { createPaperVenue, type PaperVenueOptions } from '../activities/venue/paper-venue';
import type { ResilientVenue } from '../activities/venue/resilient-venue';
import { CASE_STUDY_FILL_MODEL } from '../domain/fill-model';
import type { Price, Quantity } from '../domain/money';
import { startKalshiDouble, type KalshiDouble } from './kalshi-double';
import { MemoryOrderIdMap } from './order-id-map';
import type { PlaceOrderRequest, Venue, VenueOrder } from '../contracts/venue';

export const PAPER_SECRET = 'paper-test-secret-0123456789abcdef';
export const PAPER_KEY_ID = 'drill';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/** Fast, certain fills so contract tests do not wait on chance. */
export const EAGER_FILLS = { ...CASE_STUDY_FILL_MODEL, fillProbability: 1, partialFillProbability: 0, participationRate: 1, slippageStd: 0, latencyMeanMs: 0 };

export async function startPaper(options: PaperExchangeOptions = {}): Promise<PaperExchange> {
  return startPaperExchange({
    keys: [{ keyId: PAPER_KEY_ID, secret: PAPER_SECRET }],
    adminToken: ADMIN_TOKEN,
    dataDir: null,
    ...options,
    engine: { stepMs: 100, fillModel: EAGER_FILLS, ...options.engine },
  });
}

export function paperClient(
  exchange: PaperExchange,
  options: PaperVenueOptions = {},
  secret = PAPER_SECRET,
): ResilientVenue {
  return createPaperVenue({ baseUrl: exchange.url, keyId: PAPER_KEY_ID, secret: new Secret(secret) }, { timeoutMs: 2_000, ...options });
}

export async function paperUnderTest(): Promise<VenueUnderTest> {
  const exchange = await startPaper();
  const venue = paperClient(exchange);
  const markets = await venue.listMarkets();
  const market = markets.find((m) => m.tickSize === 10_000 && m.resolvesAt !== null) ?? markets[0]!;
  return {
    venue,
    marketId: market.marketId,
    idPrefix: 'contract-paper',
    restingBuyPrice: async () => market.tickSize as Price,
    crossingBuyPrice: async () => {
      const s = await venue.getMarketSnapshot(market.marketId);
      const ask = s.ask ?? 500_000;
      return Math.min(1_000_000 - market.tickSize, ask + 5 * market.tickSize) as Price;
    },
    close: () => exchange.close(),
  };
}

export function kalshiKeyPair(): { publicKey: ReturnType<typeof generateKeyPairSync>['publicKey']; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export const KALSHI_KEY_ID = '0b9e6a3c-55aa-4b1e-9d2f-8c7d6e5f4a3b';

export async function kalshiUnderDouble(
  options: KalshiVenueOptions = {},
  orderIds: MemoryOrderIdMap = new MemoryOrderIdMap(),
): Promise<{ double: KalshiDouble; venue: ResilientVenue; privateKeyPem: string; orderIds: MemoryOrderIdMap }> {
  const keys = kalshiKeyPair();
  const double = await startKalshiDouble({ keyId: KALSHI_KEY_ID, publicKey: keys.publicKey });
  const credentials = loadKalshiCredentials({ KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: keys.privateKeyPem, KALSHI_BASE_URL: double.url });
  const venue = createKalshiVenue(credentials, orderIds, {
    timeoutMs: 2_000,
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 5_000 },
    ...options,
  });
  return { double, venue, privateKeyPem: keys.privateKeyPem, orderIds };
}

export async function kalshiUnderTest(): Promise<VenueUnderTest> {
  const { double, venue } = await kalshiUnderDouble();
  return {
    venue,
    marketId: 'KXFEDDECISION-26JAN-H0',
    idPrefix: 'contract-kalshi',
    restingBuyPrice: async () => 300_000 as Price,
    crossingBuyPrice: async () => 450_000 as Price,
    close: () => double.close(),
  };
}

export interface VenueUnderTest {
  venue: Venue;
  marketId: string;
  /** A limit buy price that will not fill during the test. */
  restingBuyPrice: () => Promise<Price>;
  /** A limit buy price that crosses the book and fills. */
  crossingBuyPrice: () => Promise<Price>;
  /** Unique prefix for client order IDs of this run. */
  idPrefix: string;
  close(): Promise<void>;
}

/** The venue's answer to a request it accepted and has not filled yet (for scripted venues in tests). */
export const openOrderFor = (r: PlaceOrderRequest, venueOrderId = 'v-1'): VenueOrder => ({
  venueOrderId,
  clientOrderId: r.clientOrderId,
  marketId: r.marketId,
  side: r.side,
  quantity: r.quantity,
  limitPrice: r.limitPrice,
  filledQuantity: 0 as Quantity,
  averageFillPrice: null,
  status: 'OPEN',
  rejectReason: null,
  createdAt: 1,
  updatedAt: 1,
});

/** The venue calls a scripted submit/lookup venue never expects: empty reads, and a refusal where an answer would be made up. */
export const idleVenueRest: Omit<Venue, 'name' | 'placeOrder' | 'getOrderByClientId'> = {
  cancelOrder: () => Promise.reject(new Error('unused')),
  getOrderByVenueId: () => Promise.resolve(null),
  listOpenOrders: () => Promise.resolve([]),
  getFillsSince: () => Promise.resolve({ fills: [], cursor: '' }),
  getPositions: () => Promise.resolve([]),
  getBalance: () => Promise.reject(new Error('unused')),
  getMarketSnapshot: () => Promise.reject(new Error('unused')),
  listMarkets: () => Promise.resolve([]),
};
