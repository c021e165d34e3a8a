/** MODEL_PROBABILITIES and ALERT_EMAIL_LEVELS in the validated config: defaults, values, and errors naming the variable and value. */
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { ENV, buildConfig } from '../../runtime/config';

const problems = (env: Record<string, string>) => {
  try {
    buildConfig(env);
  } catch (e) {
    if (e instanceof InvalidInput) return e.problems;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('ALERT_EMAIL_LEVELS', () => {
  it('defaults to CRITICAL,HIGH; a list is read in level order, case-insensitive', () => {
    expect(buildConfig({}).alertEmailLevels).toEqual(['CRITICAL', 'HIGH']);
    expect(buildConfig({ [ENV.alertEmailLevels]: 'medium, critical,HIGH' }).alertEmailLevels).toEqual(['CRITICAL', 'HIGH', 'MEDIUM']);
  });
  it('an unknown level is refused, naming the variable and the value', () => {
    expect(problems({ [ENV.alertEmailLevels]: 'CRITICAL,URGENT' })).toEqual([
      { field: 'ALERT_EMAIL_LEVELS', value: 'CRITICAL,URGENT', problem: 'has unknown level URGENT: must list levels among CRITICAL, HIGH, MEDIUM, LOW' },
    ]);
    expect(problems({ [ENV.alertEmailLevels]: ',' })[0]).toMatchObject({ field: 'ALERT_EMAIL_LEVELS', value: ',' });
  });
});

describe('MODEL_PROBABILITIES', () => {
  it('unset: none; file: and http(s) sources are read', () => {
    expect(buildConfig({}).modelProbabilities).toBeNull();
    expect(buildConfig({ [ENV.modelProbabilities]: 'file:/srv/model.json' }).modelProbabilities).toEqual({ kind: 'file', path: '/srv/model.json' });
    expect(buildConfig({ [ENV.modelProbabilities]: 'https://models.example/p.json' }).modelProbabilities).toEqual({ kind: 'http', url: 'https://models.example/p.json' });
  });
  it('anything else is refused, naming the variable and the value', () => {
    expect(problems({ [ENV.modelProbabilities]: 'ftp://x/p.json' })).toEqual([{ field: 'MODEL_PROBABILITIES', value: 'ftp://x/p.json', problem: 'must be file:/path.json or an http(s):// URL' }]);
    expect(problems({ [ENV.modelProbabilities]: 'file:' })[0]).toMatchObject({ field: 'MODEL_PROBABILITIES', value: 'file:' });
  });
});
