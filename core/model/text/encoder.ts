// Text queries for patch search: a compiled text tower that turns texts into the unit vectors that
// dino.txt patch embeddings are scored against (the second half of the text embedding, normalised: the
// half trained against the patch mean).
import { serialize } from '../../graph/onnx.js';
import { Session } from '../../graph/runtime.js';
import { hostTensor } from '../../graph/tensor.js';
import { DinoscopeError } from '../../common/errors.js';
import { type AttachedDinoTxt } from './attached.js';
import { textGraph } from './graphs.js';

export class TextQueryEncoder {
  private constructor(
    private readonly model: AttachedDinoTxt,
    private readonly session: Session,
  ) {}

  static async create(model: AttachedDinoTxt, o: { threads?: number } = {}): Promise<TextQueryEncoder> {
    const session = await Session.create(serialize(textGraph(model.config, { values: model.tensors })), {
      intraOpThreads: o.threads,
      interOpThreads: 1,
    });
    return new TextQueryEncoder(model, session);
  }

  /** Width of the query vectors (E/2, the patch embeddings' width). */
  get dim(): number {
    return this.model.config.embedDim / 2;
  }

  /** One unit vector per text. BAD_INPUT for an empty text. */
  async patchQueries(texts: readonly string[]): Promise<Float32Array[]> {
    for (const t of texts)
      if (typeof t !== 'string' || t.trim() === '') throw new DinoscopeError('BAD_INPUT', 'A text query needs some words (it is empty).');
    const C = this.model.config.contextLength;
    const ids = this.model.tokenizer.tokenize(texts, C);
    const { text } = await this.session.run({ tokens: hostTensor('int64', [texts.length, C], ids) });
    const E = this.model.config.embedDim;
    const all = text.data as Float32Array;
    return texts.map((_, i) => {
      const v = all.slice(i * E + E / 2, (i + 1) * E);
      let n = 0;
      for (const x of v) n += x * x;
      const s = 1 / Math.max(Math.sqrt(n), 1e-12);
      for (let j = 0; j < v.length; j++) v[j] *= s;
      return v;
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
