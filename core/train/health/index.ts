// Dense-feature health monitor: a fixed probe set and the locality / CLS–patch cosine metrics.
export { selectProbes, type Grid, type Probe } from './probes.js';
export { patchLocality, clsPatchCosine, denseHealth, type LocalityOptions, type LocalityResult, type HealthReport } from './metrics.js';
export { retrievalPrecision, type RetrievalSet, type RetrievalOptions } from './retrieval.js';
export { HealthMonitor, type HealthEntry, type HealthOptions } from './monitor.js';
