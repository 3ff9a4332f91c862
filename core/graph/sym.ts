// Symbolic dimensions: a graph input may declare dims by name ('batch', 'height', 'width'); ops then
// carry each dimension as a `Dim` = a number (static) or a `Sym`, a polynomial with integer coefficients
// over atoms. An atom is a named symbol (an input's dim) or ⌊e / n⌋ of another expression (a Conv with
// stride n, H / patch). `1 + R + ⌊H/16⌋·⌊W/16⌋` is one Sym with a constant 1 + R and one term.
//
// Every Sym also carries a probe: its value at the probe sizes the symbols were declared with. Tensor.shape
// holds the probes, so shape code written for static graphs keeps working; ops that emit shape constants
// (Reshape, Expand, Slice) read Tensor.dims instead and build the symbolic parts in the graph (sym-shape.ts).

/** A named symbol or a floor division of an expression. `key` is canonical and unique per meaning. */
export interface Atom {
  readonly key: string;
  readonly probe: number;
  readonly symbol?: string;
  readonly floorDiv?: { of: Sym; by: number };
}

interface Term {
  coef: number;
  /** Atoms of the monomial, sorted by key (repeats allowed). */
  atoms: readonly Atom[];
}

const monoKey = (atoms: readonly Atom[]): string => atoms.map((a) => a.key).join('*');

export class Sym {
  private constructor(
    /** Non-constant terms, sorted by monomial key, no zero coefficients. */
    readonly terms: readonly Term[],
    readonly constant: number,
    readonly probe: number,
    /** Canonical text ("1+(height/16)*(width/16)"), also the ONNX dim_param. */
    readonly key: string,
  ) {}

  /** A named symbol with its probe value. */
  static symbol(name: string, probe: number): Sym {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`sym: symbol name "${name}" must be an identifier`);
    return Sym.make([{ coef: 1, atoms: [{ key: name, probe, symbol: name }] }], 0) as Sym;
  }

  /** Normalises (merges equal monomials, drops zeros); returns a number when nothing symbolic is left. */
  static make(terms: readonly Term[], constant: number): Dim {
    const merged = new Map<string, Term>();
    for (const t of terms) {
      const atoms = [...t.atoms].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const k = monoKey(atoms);
      const prev = merged.get(k);
      merged.set(k, { coef: (prev?.coef ?? 0) + t.coef, atoms });
    }
    const kept = [...merged.entries()].filter(([, t]) => t.coef !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (kept.length === 0) return constant;
    let probe = constant;
    for (const [, t] of kept) probe += t.coef * t.atoms.reduce((p, a) => p * a.probe, 1);
    const parts = kept.map(([k, t]) => (t.coef === 1 ? k : `${t.coef}*${k}`));
    if (constant !== 0) parts.unshift(String(constant));
    return new Sym(
      kept.map(([, t]) => t),
      constant,
      probe,
      parts.join('+').replace(/\+-/g, '-'),
    );
  }

  toString(): string {
    return this.key;
  }
}

/** A dimension: static (a number) or symbolic. */
export type Dim = number | Sym;

export const isSym = (d: Dim): d is Sym => d instanceof Sym;

/** The value a dim takes at the probe sizes (the static value for numbers). */
export const probeOf = (d: Dim): number => (typeof d === 'number' ? d : d.probe);

export const dimEq = (a: Dim, b: Dim): boolean => (typeof a === 'number' || typeof b === 'number' ? a === b : a.key === b.key);

export const dimStr = (d: Dim): string => (typeof d === 'number' ? String(d) : d.key);

const termsOf = (d: Dim): readonly Term[] => (typeof d === 'number' ? [] : d.terms);
const constOf = (d: Dim): number => (typeof d === 'number' ? d : d.constant);

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  return Sym.make([...termsOf(a), ...termsOf(b)], constOf(a) + constOf(b));
}

export function dimSub(a: Dim, b: Dim): Dim {
  return dimAdd(a, dimScale(b, -1));
}

function dimScale(a: Dim, k: number): Dim {
  if (typeof a === 'number') return a * k;
  return Sym.make(
    a.terms.map((t) => ({ coef: t.coef * k, atoms: t.atoms })),
    a.constant * k,
  );
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === 'number') return dimScale(b, a);
  if (typeof b === 'number') return dimScale(a, b);
  const terms: Term[] = [];
  const ta = [...a.terms, { coef: a.constant, atoms: [] }];
  const tb = [...b.terms, { coef: b.constant, atoms: [] }];
  let constant = 0;
  for (const x of ta) {
    for (const y of tb) {
      if (x.atoms.length + y.atoms.length === 0) constant += x.coef * y.coef;
      else terms.push({ coef: x.coef * y.coef, atoms: [...x.atoms, ...y.atoms] });
    }
  }
  return Sym.make(terms, constant);
}

export const dimProduct = (ds: readonly Dim[]): Dim => ds.reduce<Dim>((p, d) => dimMul(p, d), 1);

/** ⌊a / n⌋ for a positive integer n: exact when every coefficient divides, else a floor-division atom. */
export function dimFloorDiv(a: Dim, n: number): Dim {
  if (!Number.isInteger(n) || n < 1) throw new Error(`sym: division by ${n}`);
  if (typeof a === 'number') return Math.floor(a / n);
  if (n === 1) return a;
  if (a.constant % n === 0 && a.terms.every((t) => t.coef % n === 0)) return dimScale(a, 1 / n);
  const key =
    a.terms.length === 1 && a.constant === 0 && a.terms[0].coef === 1 && a.terms[0].atoms.length === 1
      ? `(${a.key}/${n})`
      : `((${a.key})/${n})`;
  return Sym.make([{ coef: 1, atoms: [{ key, probe: Math.floor(a.probe / n), floorDiv: { of: a, by: n } }] }], 0);
}

/**
 * a / b exactly, where b is a number or a single monomial (Reshape's −1 inference): every term of a must
 * contain b's atoms and be divisible by its coefficient. Returns null when it does not divide.
 */
export function dimExactDiv(a: Dim, b: Dim): Dim | null {
  if (typeof b === 'number') {
    if (b === 0) return null;
    if (typeof a === 'number') return a % b === 0 ? a / b : null;
    if (a.constant % b !== 0 || a.terms.some((t) => t.coef % b !== 0)) return null;
    return dimScale(a, 1 / b);
  }
  if (b.constant !== 0 || b.terms.length !== 1 || typeof a === 'number' || a.constant !== 0) return null;
  const [bt] = b.terms;
  const out: Term[] = [];
  for (const t of a.terms) {
    if (t.coef % bt.coef !== 0) return null;
    const rest = [...t.atoms];
    for (const atom of bt.atoms) {
      const i = rest.findIndex((x) => x.key === atom.key);
      if (i < 0) return null;
      rest.splice(i, 1);
    }
    out.push({ coef: t.coef / bt.coef, atoms: rest });
  }
  const constant = out.filter((t) => t.atoms.length === 0).reduce((s, t) => s + t.coef, 0);
  return Sym.make(
    out.filter((t) => t.atoms.length > 0),
    constant,
  );
}

/** Multidirectional broadcasting of dims; numbers broadcast as usual, a Sym only against 1 or itself. */
export function broadcastDims(op: string, ...shapes: (readonly Dim[])[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const v = k < 0 ? 1 : s[k];
      if (v === 1) continue;
      if (d !== 1 && !dimEq(d, v)) throw new Error(`${op}: shapes ${shapes.map(fmtDims).join(' and ')} do not broadcast`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

export const fmtDims = (s: readonly Dim[]): string => `[${s.map(dimStr).join(', ')}]`;
