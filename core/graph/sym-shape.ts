// Shape values computed in the graph for symbolic dims (sym.ts): a symbol is read from its input with
// Shape(start, end), a floor-division atom is an int64 Div, terms are Mul/Add, and a whole shape is one
// Concat of the pieces and int64 constants. All standard opset-20 ops. Results are cached per graph and
// expression, so every Reshape of a given target shares one computation.
import { type Graph, graphOf } from './graph.js';
import { type Atom, type Dim, type Sym, isSym } from './sym.js';
import { type Tensor } from './tensor.js';

const caches = new WeakMap<Graph, Map<string, Tensor>>();

function cached(g: Graph, key: string, make: () => Tensor): Tensor {
  let c = caches.get(g);
  if (!c) caches.set(g, (c = new Map()));
  const hit = c.get(key);
  if (hit) return hit;
  const t = make();
  c.set(key, t);
  return t;
}

function atomTensor(g: Graph, a: Atom): Tensor {
  return cached(g, `atom:${a.key}`, () => {
    if (a.symbol !== undefined) {
      const s = g.symbols.get(a.symbol);
      if (!s) throw new Error(`sym: the symbol ${a.symbol} is not declared by an input of graph ${g.name}`);
      return g.op('Shape', [s.input], { start: { i: s.axis }, end: { i: s.axis + 1 } }, [1], 'int64'); // (1)
    }
    const f = a.floorDiv;
    if (!f) throw new Error(`sym: atom ${a.key} has no definition`);
    return g.op('Div', [symTensor(g, f.of), g.ints([f.by], 'sym_divisor')], {}, [1], 'int64'); // (1): int64 Div floors non-negative values
  });
}

/** The value of one symbolic dim as an int64 tensor of shape (1). */
export function symTensor(g: Graph, s: Sym): Tensor {
  return cached(g, `sym:${s.key}`, () => {
    let acc: Tensor | null = null;
    for (const t of s.terms) {
      let m: Tensor | null = null;
      for (const a of t.atoms) {
        const at = atomTensor(g, a);
        m = m ? g.op('Mul', [m, at], {}, [1], 'int64') : at;
      }
      if (!m) throw new Error(`sym: empty term in ${s.key}`);
      if (t.coef !== 1) m = g.op('Mul', [m, g.ints([t.coef], 'sym_coef')], {}, [1], 'int64');
      acc = acc ? g.op('Add', [acc, m], {}, [1], 'int64') : m;
    }
    if (!acc) throw new Error(`sym: ${s.key} has no terms`);
    if (s.constant !== 0) acc = g.op('Add', [acc, g.ints([s.constant], 'sym_const')], {}, [1], 'int64');
    return acc;
  });
}

/** A 1-D int64 tensor holding `dims` (a Reshape/Expand target): constants where static, computed where symbolic. */
export function dimsTensor(g: Graph, dims: readonly Dim[], name = 'shape'): Tensor {
  if (!dims.some(isSym)) return g.ints(dims as number[], name);
  const key = dims.map((d) => (isSym(d) ? `{${d.key}}` : String(d))).join(',');
  return cached(g, `dims:${key}`, () => {
    const pieces: Tensor[] = [];
    let run: number[] = [];
    for (const d of dims) {
      if (!isSym(d)) {
        run.push(d);
        continue;
      }
      if (run.length) pieces.push(g.ints(run, name));
      run = [];
      pieces.push(symTensor(g, d));
    }
    if (run.length) pieces.push(g.ints(run, name));
    return pieces.length === 1 ? pieces[0] : g.op('Concat', pieces, { axis: { i: 0 } }, [dims.length], 'int64'); // (rank)
  });
}

/** A rank-0 int64 value of one dim (Range bounds). */
export function dimScalar(like: Tensor, d: Dim): Tensor {
  const g = graphOf(like);
  if (!isSym(d)) return g.scalar(d, 'int64');
  return cached(g, `scalar:${d.key}`, () => g.op('Reshape', [symTensor(g, d), g.ints([], 'scalar_shape')], {}, [], 'int64')); // (1) → ()
}
