// The per-step values of a training graph, declared once where the graph is built: a `GraphIO<Feeds, Outputs>`
// maps each key of two TypeScript interfaces (what is fed, what is read back) to the graph's value name. The
// graph builder names its inputs and outputs through it and the trainer feeds and reads through it, so a
// misspelt key is a compile error, and an interface key without a graph name (or the reverse) is one too.
// Parameters and optimiser state are not part of it: they are named by the model (model.ts) and stay in the
// StepRunner between steps.
import type { HostTensor } from '../graph/tensor.js';

/** The graph's value name of every key of T (optional keys included). */
export type GraphNames<T> = { readonly [K in keyof T]-?: string };

export interface GraphIO<Feeds, Outputs> {
  /** Graph input name per feed key. */
  readonly inputs: GraphNames<Feeds>;
  /** Graph output name per output key. */
  readonly outputs: GraphNames<Outputs>;
  /** The session feeds of `values` (keys left undefined are not fed). */
  feeds(values: Feeds): Record<string, HostTensor>;
  /** The outputs of one run by key; an output the run did not return (an optional one) is left out. */
  read(out: Readonly<Record<string, HostTensor>>): Outputs;
}

/** The descriptor of a graph whose inputs are named `inputs` and outputs `outputs`. */
export function graphIO<Feeds extends { [K in keyof Feeds]?: HostTensor }, Outputs extends { [K in keyof Outputs]?: HostTensor }>(
  inputs: GraphNames<Feeds>,
  outputs: GraphNames<Outputs>,
): GraphIO<Feeds, Outputs> {
  return {
    inputs,
    outputs,
    feeds(values) {
      const feeds: Record<string, HostTensor> = {};
      for (const [key, t] of Object.entries(values) as [keyof Feeds, HostTensor | undefined][]) {
        if (t === undefined) continue;
        const name = inputs[key];
        if (name === undefined) throw new Error(`graph feeds: no input is declared for ${String(key)}`); // only reachable past the compiler
        feeds[name] = t;
      }
      return feeds;
    },
    read(out) {
      const values: Partial<Record<keyof Outputs, HostTensor>> = {};
      for (const key of Object.keys(outputs) as (keyof Outputs)[]) {
        const t = out[outputs[key]];
        if (t !== undefined) values[key] = t;
      }
      return values as Outputs;
    },
  };
}

/** The first element of a scalar (or any) float tensor. */
export function scalarOf(t: HostTensor): number {
  return (t.data as Float32Array)[0];
}
