// Public API of the graph engine. See README.md.
export { Graph, graphOf, type Attr, type Attrs, type Node } from './graph.js';
export { Tensor, hostTensor, allocData, sizeOf, isFloat, type DType, type Shape, type HostTensor, type TensorData } from './tensor.js';
export * from './ops/index.js';
export { grad, stopGradient } from './autodiff.js';
export { gradients, reduceTo, type GradRule } from './gradients.js';
export { optimize, type OptimizeStats } from './optimize.js';
export { serialize, scheduleNodes, OPSET, IR_VERSION, type SerializeOptions } from './onnx.js';
export * from './resample.js';
export { adamw, ema, clipByGlobalNorm, type ParamGroup, type AdamWOptions, type AdamWStep } from './optim.js';
