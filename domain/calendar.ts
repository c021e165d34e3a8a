/**
 * Trading days in a time zone (IANA names, through Intl). Pure: instants come in as arguments.
 * A trading day runs from 00:00 to the next 00:00 on the zone's wall clock.
 */
import { validateTradingDay } from './ids';

const formats = new Map<string, Intl.DateTimeFormat>();

function zoneParts(epochMs: number, timeZone: string) {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(epochMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { y: get('year'), mo: get('month'), d: get('day'), h: get('hour'), mi: get('minute'), s: get('second') };
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
/** Whether Intl knows this IANA zone name. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function tradingDayIn(epochMs: number, timeZone: string): string {
  const p = zoneParts(epochMs, timeZone);
  return `${String(p.y).padStart(4, '0')}-${String(p.mo).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

/** Offset of the zone's wall clock from UTC at an instant, in ms. */
function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const p = zoneParts(epochMs, timeZone);
  return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - Math.floor(epochMs / 1000) * 1000;
}

/** The instant at which a calendar day starts (00:00 wall clock) in a time zone. */
export function startOfDayIn(day: string, timeZone: string): number {
  validateTradingDay(day, 'day');
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  const first = wall - zoneOffsetMs(wall, timeZone);
  // A second pass settles days whose offset differs from the one at the naive guess (DST).
  return wall - zoneOffsetMs(first, timeZone);
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = validateTradingDay(day).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The session of `tradingDay` trades until the next day starts in the zone. */
export function endOfTradingDay(tradingDay: string, timeZone: string): number {
  return startOfDayIn(addDays(tradingDay, 1), timeZone);
}
