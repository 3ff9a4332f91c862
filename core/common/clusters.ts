// k-means cluster maps: the k the UI, the CLI and the exports start from, and the range k may take.
export const DEFAULT_CLUSTER_K = 8;
export const MIN_CLUSTER_K = 2;
export const MAX_CLUSTER_K = 64;
