import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../exchange/cli';
import { defaultEngineConfig, validateEngineConfig } from '../../exchange/config';
import { InvalidInput } from '../../domain/errors';
import { CASE_STUDY_FILL_MODEL, FILL_MODEL_PRESETS } from '../../domain/fill-model';

const T0 = 1_767_225_600_000;

describe('paper exchange fill model configuration', () => {
  it('defaults to the case study pre-live calibration with its 150 ms latency on', () => {
    expect(parseCliArgs([]).fillModel).toEqual(FILL_MODEL_PRESETS['pre-live']);
    expect(defaultEngineConfig(1, T0).fillModel).toEqual(CASE_STUDY_FILL_MODEL);
    expect(defaultEngineConfig(1, T0).fillModel.latencyMeanMs).toBe(150);
  });

  it('selects a preset by name, or a preset with overrides as JSON', () => {
    expect(parseCliArgs(['--fill-model', 'post-live']).fillModel).toEqual(FILL_MODEL_PRESETS['post-live']);
    expect(parseCliArgs(['--fill-model', '{"preset":"chapter","latencyMeanMs":0}']).fillModel).toEqual({ ...FILL_MODEL_PRESETS.chapter, latencyMeanMs: 0 });
    expect(defaultEngineConfig(1, T0, FILL_MODEL_PRESETS['post-live']).fillModel.fillProbability).toBe(0.7);
  });

  it('names the flag, the field and the value of a bad fill model, with the other bad flags', () => {
    try {
      parseCliArgs(['--fill-model', 'live', '--port', 'x']);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).problems.map((p) => [p.field, p.value])).toEqual([
        ['--fill-model', 'live'],
        ['--port', 'x'],
      ]);
    }
    try {
      parseCliArgs(['--fill-model', '{"preset":"pre-live","latencyMeanMs":-1}']);
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidInput).problems).toEqual([expect.objectContaining({ field: '--fill-model.latencyMeanMs', value: -1 })]);
    }
    expect(() => parseCliArgs(['--fill-model', '{not json'])).toThrow(/--fill-model/);
  });

  it('the engine config refuses a bad latency under fillModel', () => {
    expect(() => validateEngineConfig({ ...defaultEngineConfig(1, T0), fillModel: { ...CASE_STUDY_FILL_MODEL, latencyMeanMs: Number.NaN } })).toThrow(/fillModel\.latencyMeanMs/);
  });
});
