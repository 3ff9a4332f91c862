// All op builders. Import from here (or from ../index.js).
export * from './elementwise.js';
export * from './shape.js';
export * from './linalg.js';
export * from './reduce.js';
export * from './nn.js';
