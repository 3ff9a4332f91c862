// float16 conversion for feature storage lives in core/common/half.ts; re-exported here for existing importers.
export { floatToHalf as f32ToF16Bits, fromFloat16, toFloat16 } from '../common/half.js';
