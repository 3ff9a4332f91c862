// Which training run the demo continues: runs named demo, demo-2, demo-3 … in project.json. The latest
// one finished is kept; unfinished with a checkpoint is resumed; without a checkpoint (killed before its
// first, or failed) it is left as it is and a new run takes the next name.
import type { Project } from '../project/project.js';
import type { RunRecord } from '../train/run.js';

export interface NextRun {
  action: 'new' | 'resume' | 'keep';
  run: string;
  /** Steps done so far (0 for a new run). */
  steps: number;
}

const DEMO_RUN = /^demo(?:-(\d+))?$/;

export function isRun(v: unknown): v is RunRecord {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { name?: unknown }).name === 'string' &&
    typeof (v as { status?: unknown }).status === 'string'
  );
}

export function nextDemoRun(project: Project): NextRun {
  const runs = project
    .runs()
    .filter(isRun)
    .filter((r) => DEMO_RUN.test(r.name));
  const number = (name: string): number => Number(DEMO_RUN.exec(name)?.[1] ?? 1);
  const last = [...runs].sort((a, b) => number(a.name) - number(b.name)).pop();
  if (!last) return { action: 'new', run: 'demo', steps: 0 };
  if (last.status === 'done') return { action: 'keep', run: last.name, steps: last.step };
  if (last.checkpointStep !== null && last.status !== 'failed') return { action: 'resume', run: last.name, steps: last.checkpointStep };
  return { action: 'new', run: `demo-${number(last.name) + 1}`, steps: 0 };
}
