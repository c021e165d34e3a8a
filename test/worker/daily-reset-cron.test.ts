/**
 * Issue 14, "Daily reset off midnight": a trading day runs from 00:00 to 00:00 in the trading zone
 * (the session schedule starts each day at 00:00 there) and the reset opens the day it runs on,
 * so a DAILY_RESET_CRON firing at any other time of day would roll the counters in the middle of
 * a trading day. It is refused, naming the variable and the value; any days of the week are fine.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { buildConfig } from '../../runtime/config';

function problems(cron: string) {
  try {
    buildConfig({ DAILY_RESET_CRON: cron });
    return [];
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    return e.problems;
  }
}

describe('DAILY_RESET_CRON', () => {
  it.each(['0 17 * * *', '30 0 * * *', '0 */6 * * *', '0 0,12 * * *', '*/5 0 * * *'])('refuses %s: the reset must run at 00:00', (cron) => {
    expect(problems(cron)).toEqual([{ field: 'DAILY_RESET_CRON', value: cron, problem: expect.stringMatching(/00:00.*TRADING_TIME_ZONE/) }]);
  });

  it.each(['0 0 * * *', '0 0 * * 1-5', '00 00 * * *'])('accepts %s', (cron) => {
    expect(buildConfig({ DAILY_RESET_CRON: cron }).dailyResetCron).toBe(cron);
  });
});
