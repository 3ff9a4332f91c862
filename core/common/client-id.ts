// Which browser a call or a tile request comes from, on a serve host that several people use at once: the
// similarity query, its heatmaps and the PCA / cluster layers are each browser's own (core/analysis keeps
// them per client). The browser page makes a random id when it loads and sends it with every API call (the
// CLIENT_HEADER header); the overlay tile URLs the host answers carry it back (CLIENT_PARAM). The desktop app,
// the CLI and any caller that sends none share one client, DEFAULT_CLIENT.
export const CLIENT_HEADER = 'x-dinoscope-client';
export const CLIENT_PARAM = 'client';
export const DEFAULT_CLIENT = 'app';

/** 8 to 64 letters, digits, `-` or `_` (safe in a header, a URL and a cache key as they are). */
export const isClientId = (s: unknown): s is string => typeof s === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(s);
