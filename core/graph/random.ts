// The graph layer's seeded PRNG is the shared one (core/common/random.ts); re-exported for existing imports.
export { mulberry32 } from '../common/random.js';
