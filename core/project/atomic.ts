// Atomic writes live in core/io/atomic.ts; re-exported here for core/train/checkpoint.ts.
export { writeFileAtomic } from '../io/atomic.js';
