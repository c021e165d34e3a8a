/** An in-memory OrderIdMap for tests (the records keep the real one in PostgreSQL). Counts its look-ups. */
import type { OrderIdMap } from '../contracts/venue';

export class MemoryOrderIdMap implements OrderIdMap {
  private readonly map = new Map<string, string>();
  lookups = 0;

  clientOrderIdFor(venue: string, venueOrderId: string): Promise<string | null> {
    this.lookups += 1;
    return Promise.resolve(this.map.get(`${venue}\u0000${venueOrderId}`) ?? null);
  }

  remember(venue: string, venueOrderId: string, clientOrderId: string): Promise<void> {
    const key = `${venue}\u0000${venueOrderId}`;
    const known = this.map.get(key);
    if (known !== undefined && known !== clientOrderId) {
      return Promise.reject(new Error(`venue order ${venueOrderId} already maps to ${known}, not ${clientOrderId}`));
    }
    this.map.set(key, clientOrderId);
    return Promise.resolve();
  }

  get size(): number {
    return this.map.size;
  }
}
