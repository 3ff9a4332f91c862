// A small schema builder: each schema checks an untyped value (JSON from a transport, a parsed config file)
// and returns it typed, or throws FieldError naming the field by its path ("k", "points[0].x") and what a
// valid value is ("k: must be an integer from 2 to 64, got 1.5"). Objects are strict (unknown keys are
// errors) and come back as new, deeply frozen objects, so nothing downstream can change a checked value.
// The TypeScript type of a value is derived from its schema (Infer), so the two cannot drift.
import { FieldError } from './errors.js';
import { deepFreeze } from './freeze.js';

export interface Schema<T> {
  /** The checked value, or FieldError at `path` ('' for the value itself). */
  parse(value: unknown, path?: string): T;
  /** What a valid value is, in words ("an integer from 2 to 64"). */
  readonly expects: string;
  /** 'object' for object schemas (an API argument that is an object names its fields without its own name). */
  readonly kind: 'object' | 'value';
}

/** A schema whose value may be absent (undefined, or null as JSON sends an absent argument). */
export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** How a rejected value is quoted in a FieldError problem: JSON where it has one, else its type (a `{` in a
 * string doubled, so it is never read as a field reference). */
export function quote(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value).replaceAll('{', '{{');
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** `path.key` (or `key` at the top). */
export function fieldPath(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

function fail(path: string, expects: string, value: unknown): never {
  throw new FieldError(path, `must be ${expects}, got ${quote(value)}.`);
}

function make<T>(expects: string, check: (value: unknown, path: string) => T, kind: 'object' | 'value' = 'value'): Schema<T> {
  return { expects, kind, parse: (value, path = '') => check(value, path) };
}

export interface NumberRules {
  /** Whole numbers only. */
  int?: boolean;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive lower bound (a positive number: gt 0). */
  gt?: number;
}

function numberWords(r: NumberRules): string {
  const what = r.int ? 'an integer' : 'a number';
  if (r.min !== undefined && r.max !== undefined) return `${what} from ${r.min} to ${r.max}`;
  if (r.gt !== undefined) return r.gt === 0 ? (r.int ? 'a positive integer' : 'a positive number') : `${what} > ${r.gt}`;
  if (r.min !== undefined) return `${what} ≥ ${r.min}`;
  if (r.max !== undefined) return `${what} ≤ ${r.max}`;
  return what;
}

/** A finite number within the rules (NaN and ±Infinity are never valid). */
export function number(rules: NumberRules = {}): Schema<number> {
  const expects = numberWords(rules);
  return make(expects, (v, path) => {
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (!rules.int || Number.isInteger(v)) &&
      (rules.min === undefined || v >= rules.min) &&
      (rules.max === undefined || v <= rules.max) &&
      (rules.gt === undefined || v > rules.gt);
    return ok ? v : fail(path, expects, v);
  });
}

export interface StringRules {
  /** Longest accepted length (default: no limit). */
  maxLength?: number;
  /** A pattern the whole string must match, and its description ("letters, digits, '.', '_' and '-'"). */
  pattern?: RegExp;
  patternWords?: string;
}

/** A non-empty string without NUL characters (they truncate paths in the OS). */
export function string(rules: StringRules = {}): Schema<string> {
  const expects = rules.patternWords ? `a string of ${rules.patternWords}` : 'a non-empty string';
  return make(expects, (v, path) => {
    if (typeof v !== 'string' || v.length === 0 || v.includes('\0')) return fail(path, expects, v);
    if (rules.maxLength !== undefined && v.length > rules.maxLength)
      throw new FieldError(path, `must be at most ${rules.maxLength} characters, got ${v.length}.`);
    if (rules.pattern && !rules.pattern.test(v)) return fail(path, expects, v);
    return v;
  });
}

export function boolean(): Schema<boolean> {
  return make('true or false', (v, path) => (typeof v === 'boolean' ? v : fail(path, 'true or false', v)));
}

/** One of a fixed set of strings. */
export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const expects = values.length === 1 ? `"${values[0]}"` : `one of ${values.map((x) => `"${x}"`).join(', ')}`;
  return make(expects, (v, path) =>
    typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(path, expects, v),
  );
}

export interface ArrayRules {
  min?: number;
  max?: number;
}

/** A list of items of one schema; the result is a new frozen array. */
export function array<T>(item: Schema<T>, rules: ArrayRules = {}): Schema<T[]> {
  const expects = `a list of ${item.expects.replace(/^(a|an) /, '')}s`;
  return make(expects, (v, path) => {
    if (!Array.isArray(v)) return fail(path, expects, v);
    if (rules.min !== undefined && v.length < rules.min)
      throw new FieldError(path, `must hold at least ${rules.min} item${rules.min === 1 ? '' : 's'}, got ${v.length}.`);
    if (rules.max !== undefined && v.length > rules.max)
      throw new FieldError(path, `must hold at most ${rules.max} items, got ${v.length}.`);
    return deepFreeze(v.map((x, i) => item.parse(x, fieldPath(path, i))));
  });
}

/** The value or null (null is a value here: "none", e.g. a model to start from). */
export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  const expects = `${inner.expects} or null`;
  return make(expects, (v, path) => {
    if (v === null) return null;
    try {
      return inner.parse(v, path);
    } catch (err) {
      // A refusal of the value itself (not of a field inside it) says that null would do too.
      if (err instanceof FieldError && err.field === path && err.problem.startsWith(`must be ${inner.expects},`)) fail(path, expects, v);
      throw err;
    }
  });
}

/** The value, or undefined when absent. A null is taken as absent unless `inner` accepts null itself. */
export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  const takesNull = (() => {
    try {
      inner.parse(null);
      return true;
    } catch {
      return false;
    }
  })();
  return {
    optional: true,
    kind: inner.kind,
    expects: inner.expects,
    parse: (v, path = '') => (v === undefined || (v === null && !takesNull) ? undefined : inner.parse(v, path)),
  };
}

/** Any plain object, taken as it is (checked elsewhere, e.g. training config overrides by core/train/config). */
export function anyObject(): Schema<Record<string, unknown>> {
  return make('an object', (v, path) => (isPlainObject(v) ? v : fail(path, 'an object', v)));
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] };
export type ObjectOf<S extends Shape> = Flat<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** A strict object: every key of `shape` checked, any other key an error; absent optional keys are left out. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  return make(
    'an object',
    (v, path) => {
      if (!isPlainObject(v)) return fail(path, 'an object', v);
      for (const k of Object.keys(v)) {
        if (!Object.prototype.hasOwnProperty.call(shape, k))
          throw new FieldError(fieldPath(path, k), `is not a known field (known: ${keys.join(', ')}).`);
      }
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        const value = shape[k].parse(v[k], fieldPath(path, k));
        if (value !== undefined) out[k] = value;
      }
      return deepFreeze(out) as ObjectOf<S>;
    },
    'object',
  );
}

/** Checks a value that already passed `schema` further (rules across fields); throw FieldError to refuse. */
export function refine<T>(schema: Schema<T>, check: (value: T, path: string) => void): Schema<T> {
  return make(
    schema.expects,
    (v, path) => {
      const value = schema.parse(v, path);
      check(value, path);
      return value;
    },
    schema.kind,
  );
}

// ---- argument lists ----

type Arg = readonly [name: string, schema: Schema<unknown>];
/** The tuple type of an argument list: optional arguments become optional elements. */
export type ArgsOf<L extends readonly Arg[]> = L extends readonly [infer H extends Arg, ...infer R extends readonly Arg[]]
  ? H[1] extends OptionalSchema<infer T>
    ? [T?, ...ArgsOf<R>]
    : [Infer<H[1]>, ...ArgsOf<R>]
  : [];

/** The arguments of a call, each named. An object argument names its fields without its own name
 * ("mpp", not "options.mpp"): the fields are what a person sets. */
export function args<const L extends readonly Arg[]>(...list: L): Schema<ArgsOf<L>> {
  const expects = list.length === 0 ? 'no arguments' : `the arguments (${list.map(([n]) => n).join(', ')})`;
  return make(expects, (v, path) => {
    if (!Array.isArray(v)) return fail(path || 'arguments', 'a list of arguments', v);
    if (v.length > list.length)
      throw new FieldError(
        '',
        `takes ${list.length === 0 ? 'no arguments' : `at most ${list.length} argument${list.length === 1 ? '' : 's'} (${list.map(([n]) => n).join(', ')})`}, got ${v.length}.`,
      );
    return list.map(([name, schema], i) => {
      const x: unknown = v[i];
      return schema.kind === 'object' && isPlainObject(x) ? schema.parse(x, '') : schema.parse(x, name);
    }) as ArgsOf<L>;
  });
}
