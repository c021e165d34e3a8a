/**
 * What a suite needs from this machine (a Temporal server, PostgreSQL, Chromium). Outside CI a
 * suite whose need is missing is skipped and its title says why; with CI=true it is not skipped:
 * it fails, naming what is missing, because CI machines have all of it (.ci/run provides it).
 */
import { describe, it } from 'vitest';

export const IN_CI = process.env.CI === 'true';

/**
 * `describe(title, fn)` when `missing` is null. Otherwise: in CI, one failing test that names what
 * is missing; elsewhere, a skipped suite whose title gives the reason.
 */
export function describeWhere(missing: string | null, title: string, fn: () => void): void {
  if (missing === null) {
    describe(title, fn);
  } else if (IN_CI) {
    describe(title, () => {
      it('has what it needs on this CI machine', () => {
        throw new Error(`CI=true and this suite cannot run: ${missing}`);
      });
    });
  } else {
    describe.skip(`${title}: skipped, ${missing}`, fn);
  }
}
