// The schedules of a run whose length changes after it started (config.replans): a minutes budget that
// re-estimates its step count as the machine's load changes, and a run extended by more steps or minutes.
// Every scheduled value stays continuous across a change; schedule.ts gives the plan of a fixed length.
//
// 'budget' (the step count re-estimated mid-run): the plan is kept and its remaining part is re-timed over
// the new count. Each plan is a function of a virtual step u; real steps map to u piecewise linearly, and a
// re-plan at step a sends the rest of u (from u(a) to the plan's end) onto the real steps a … to. The
// recipe's schedules are all smooth functions of the run's fraction (warm-ups and cosines as fractions of
// the run), so re-timing keeps their shape — warm-up first, the cosine tail reaching its final value on the
// last real step — with no jump. One value is not a fraction: the teacher momentum is an EMA per real step,
// so its start m₀ (the momentum horizon, schedule.ts startMomentum) stays that of the plan's first count.
//
// 'extend' (more steps for a finished or stopped run): a finished run sits at the final values (lr at its
// minimum, teacher momentum 1: the teacher no longer moves), so the run is not restarted (no second warm-up
// from lr 0, no new teacher-temperature warm-up, same step counter, optimizer and teacher) but re-planned:
// lr, weight decay and momentum follow the schedule planned over the new total from the current step on, and
// a linear ramp over the first warmupFraction of the added steps (the recipe's own warm-up length) joins the
// values the run stopped at to that plan, so no value jumps. Teacher temperature and the last-layer freeze
// are warm-ups of a run's start: once the run has passed them, an extension does not repeat them.
import { type TrainConfig } from './config.js';
import { type StepValues, scheduleAt } from './schedule.js';

/** One change of the run's total step count. */
export interface Replan {
  /** Steps completed when the change applies (the first step it plans). */
  step: number;
  /** The run's total steps before and after the change. */
  from: number;
  to: number;
  /** 'budget': the same plan re-timed over the new count; 'extend': re-planned over the new total (above). */
  kind: 'budget' | 'extend';
}

/** A plan and the real steps [a, b] it covers, mapped linearly onto its virtual steps [ua, ub]. */
interface Piece<V> {
  a: number;
  ua: number;
  b: number;
  ub: number;
  at: (u: number) => V;
}

/** The virtual step of real step `s` in piece `p` (a piece that ends where it starts stays at its start). */
function virtual<V>(p: Piece<V>, s: number): number {
  return p.b > p.a ? p.ua + ((s - p.a) * (p.ub - p.ua)) / (p.b - p.a) : p.ua;
}

/** The plan over `total` steps, at virtual step u. */
function plain(c: TrainConfig, total: number): (u: number) => StepValues {
  const fixed: TrainConfig = { ...c, steps: total };
  return (u) => scheduleAt(fixed, u);
}

/** The plan over `total` joined at step `a` to the values `join` the run stopped at (see the header). */
function joined(c: TrainConfig, total: number, a: number, join: StepValues): (u: number) => StepValues {
  const next = plain(c, total);
  const ramp = extensionRamp(c, total, a);
  const target = c.teacher.temp;
  const frozenAtJoin = join.lastLayerLr === 0 && join.lr > 0;
  return (u) => {
    const v = next(u);
    const f = Math.min(1, Math.max(0, (u - a) / ramp));
    const mix = (x: number, y: number): number => x + f * (y - x);
    const lr = mix(join.lr, v.lr);
    // The teacher temperature never goes back through its warm-up: the value nearer its target wins.
    const teacherTemp = Math.abs(join.teacherTemp - target) <= Math.abs(v.teacherTemp - target) ? join.teacherTemp : v.teacherTemp;
    return {
      lr,
      lastLayerLr: frozenAtJoin && v.lastLayerLr === 0 ? 0 : lr,
      wd: mix(join.wd, v.wd),
      teacherTemp,
      momentum: mix(join.momentum, v.momentum),
    };
  };
}

/** The steps of an extension's joining ramp: the recipe's warm-up fraction of the added steps, at least 1. */
export function extensionRamp(c: TrainConfig, total: number, a: number): number {
  return Math.max(1, Math.round(c.optim.warmupFraction * (total - a)));
}

/**
 * How an objective's schedules are planned: `plain(total)` its plan over `total` steps; `joined(total, a,
 * join)` the plan over `total` joined at step `a` to the values `join` the run stopped at (an extension).
 */
export interface SchedulePlan<V> {
  plain: (total: number) => (u: number) => V;
  joined: (total: number, a: number, join: V) => (u: number) => V;
}

function pieces<V>(c: TrainConfig, plan: SchedulePlan<V>): Piece<V>[] {
  const first = c.replans.length ? c.replans[0].from : c.steps;
  const out: Piece<V>[] = [{ a: 0, ua: 0, b: first, ub: first, at: plan.plain(first) }];
  for (const r of c.replans) {
    const p = out[out.length - 1];
    const u = virtual(p, r.step);
    if (r.kind === 'budget') out.push({ a: r.step, ua: u, b: r.to, ub: p.ub, at: p.at });
    else out.push({ a: r.step, ua: r.step, b: r.to, ub: r.to, at: plan.joined(r.to, r.step, p.at(u)) });
  }
  return out;
}

/** An objective's scheduled values at `step` through the run's re-plans (the DINO ones: plannedScheduleAt). */
export function plannedAt<V>(c: TrainConfig, step: number, plan: SchedulePlan<V>): V {
  const ps = pieces(c, plan);
  let p = ps[0];
  for (const q of ps) if (q.a <= step) p = q;
  return p.at(virtual(p, step));
}

/** Every scheduled value at `step` (0-based: the step about to run), following the run's re-plans. */
export function plannedScheduleAt(c: TrainConfig, step: number): StepValues {
  if (!c.replans.length) return scheduleAt(c, step);
  return plannedAt(c, step, { plain: (total) => plain(c, total), joined: (total, a, join) => joined(c, total, a, join) });
}

/** The config with its total changed to `to` from step `step` on (a new object; `c` is not changed). */
export function replanned(c: TrainConfig, step: number, to: number, kind: Replan['kind']): TrainConfig {
  return { ...c, steps: to, replans: [...c.replans, { step, from: c.steps, to, kind }] };
}

/** What is wrong with a config's re-plans, or null (each applies at or after the previous, within its totals). */
export function validateReplans(replans: unknown, steps: number): string | null {
  if (!Array.isArray(replans)) return 'replans must be a list';
  let prev: Replan | null = null;
  for (const [i, r] of (replans as Replan[]).entries()) {
    const ok =
      typeof r === 'object' &&
      r !== null &&
      (r.kind === 'budget' || r.kind === 'extend') &&
      [r.step, r.from, r.to].every((x) => Number.isInteger(x) && x >= 0);
    if (!ok) return `replans[${i}] must be {step, from, to, kind: 'budget' | 'extend'} with integer steps ≥ 0`;
    if (r.step > r.to || (prev && (r.step < prev.step || r.from !== prev.to))) return `replans[${i}] does not follow the previous re-plan`;
    prev = r;
  }
  if (prev && prev.to !== steps) return `the last re-plan ends at ${prev.to} steps, not at steps (${steps})`;
  return null;
}
