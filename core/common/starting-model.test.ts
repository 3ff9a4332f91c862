// The default starting model of a pretraining run: foundation models only (not a run's teacher, not a
// random baseline), the project's before the user's, the newest first.
import { describe, expect, it } from 'vitest';
import { defaultStartingModel, isFoundationModel } from './starting-model.js';

const m = (id: string, source: string, location: 'project' | 'user', created: string) => ({ id, source, location, created });

describe('defaultStartingModel', () => {
  it('takes imported and downloaded models, not run or init models', () => {
    expect(isFoundationModel({ source: 'dinov2-small-reg4' })).toBe(true);
    expect(isFoundationModel({ source: '/data/uni2.safetensors' })).toBe(true);
    expect(isFoundationModel({ source: 'https://huggingface.co/x/resolve/main/model.safetensors' })).toBe(true);
    expect(isFoundationModel({ source: 'run:demo@120' })).toBe(false);
    expect(isFoundationModel({ source: 'init:0' })).toBe(false);
    expect(defaultStartingModel([m('demo', 'run:demo@9', 'project', '2026-02-01'), m('rand', 'init:0', 'user', '2026-02-01')])).toBeNull();
    expect(defaultStartingModel([])).toBeNull();
  });

  it("prefers the project's models, then the newest", () => {
    const models = [
      m('user-new', 'dinov2-base-reg4', 'user', '2026-03-01'),
      m('proj-old', '/a.safetensors', 'project', '2026-01-01'),
      m('proj-new', '/b.safetensors', 'project', '2026-02-01'),
      m('run', 'run:r@1', 'project', '2026-04-01'),
    ];
    expect(defaultStartingModel(models)?.id).toBe('proj-new');
    expect(defaultStartingModel(models.filter((x) => x.location === 'user'))?.id).toBe('user-new');
  });
});
