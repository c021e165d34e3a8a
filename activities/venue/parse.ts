/**
 * Reads untrusted venue JSON into core types. Every accessor names the full field path; a
 * missing, null (where not allowed) or wrong-typed value becomes a MALFORMED_RESPONSE
 * VenueError naming that path and the value, never a TypeError deep inside the caller.
 * Prices and money are read from decimal strings with the core's exact parsers.
 */
import { DomainError } from '../../domain/errors';
import { parseMicros, parseMoney, parsePrice, type Money, type Price, type Quantity } from '../../domain/money';
import { malformed, type VenueError } from './errors';

export type Json = Record<string, unknown>;

export class ResponseReader {
  constructor(
    readonly venue: string,
    readonly operation: string,
  ) {}

  fail(field: string, value: unknown, expected: string): VenueError {
    return malformed(this.venue, this.operation, field, value, expected);
  }

  object(value: unknown, field: string): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw this.fail(field, value, 'must be an object');
    return value as Json;
  }

  field(o: Json, key: string, path: string): unknown {
    if (!(key in o) || o[key] === undefined) throw this.fail(`${path}.${key}`, undefined, 'is missing');
    return o[key];
  }

  array(o: Json, key: string, path: string): unknown[] {
    const v = this.field(o, key, path);
    if (!Array.isArray(v)) throw this.fail(`${path}.${key}`, v, 'must be an array');
    return v;
  }

  /** An array field that the venue may send as null or omit to mean "empty". */
  arrayOrEmpty(o: Json, key: string, path: string): unknown[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.fail(`${path}.${key}`, v, 'must be an array or null');
    return v;
  }

  string(o: Json, key: string, path: string): string {
    const v = this.field(o, key, path);
    if (typeof v !== 'string' || v.length === 0) throw this.fail(`${path}.${key}`, v, 'must be a non-empty string');
    return v;
  }

  nullableString(o: Json, key: string, path: string): string | null {
    const v = this.field(o, key, path);
    if (v === null) return null;
    if (typeof v !== 'string') throw this.fail(`${path}.${key}`, v, 'must be a string or null');
    return v;
  }

  oneOf<T extends string>(o: Json, key: string, path: string, allowed: readonly T[]): T {
    const v = this.field(o, key, path);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw this.fail(`${path}.${key}`, v, `must be one of ${allowed.join(', ')}`);
    return v as T;
  }

  integer(o: Json, key: string, path: string): number {
    const v = this.field(o, key, path);
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw this.fail(`${path}.${key}`, v, 'must be an integer');
    return v;
  }

  quantity(o: Json, key: string, path: string): Quantity {
    const v = this.integer(o, key, path);
    if (v < 0) throw this.fail(`${path}.${key}`, v, 'must be a non-negative whole number of contracts');
    return v as Quantity;
  }

  nullableInteger(o: Json, key: string, path: string): number | null {
    const v = this.field(o, key, path);
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw this.fail(`${path}.${key}`, v, 'must be an integer or null');
    return v;
  }

  /** Epoch milliseconds. */
  timestamp(o: Json, key: string, path: string): number {
    const v = this.integer(o, key, path);
    if (v < 0) throw this.fail(`${path}.${key}`, v, 'must be epoch milliseconds');
    return v;
  }

  price(o: Json, key: string, path: string): Price {
    const v = this.field(o, key, path);
    return this.decimal(v, `${path}.${key}`, (t, f) => parsePrice(t, f));
  }

  nullablePrice(o: Json, key: string, path: string): Price | null {
    const v = this.field(o, key, path);
    return v === null ? null : this.decimal(v, `${path}.${key}`, (t, f) => parsePrice(t, f));
  }

  money(o: Json, key: string, path: string): Money {
    const v = this.field(o, key, path);
    return this.decimal(v, `${path}.${key}`, (t, f) => parseMoney(t, f));
  }

  /** Any exact decimal string as micros. */
  micros(o: Json, key: string, path: string): number {
    const v = this.field(o, key, path);
    return this.decimal(v, `${path}.${key}`, (t, f) => parseMicros(t, f));
  }

  /** Runs a core validator; its typed InvalidInput becomes MALFORMED_RESPONSE naming the field. */
  domain<T>(field: string, value: unknown, check: () => T): T {
    try {
      return check();
    } catch (e) {
      if (e instanceof DomainError) throw this.fail(field, value, `is invalid: ${e.message}`);
      throw e;
    }
  }

  private decimal<T>(v: unknown, field: string, parse: (text: string, field: string) => T): T {
    if (typeof v !== 'string') throw this.fail(field, v, 'must be a decimal string');
    return this.domain(field, v, () => parse(v, field));
  }
}
