// The renderer's view of the host: the one API contract plus events and the import of dropped files.
// Two transports implement it (bridge.ts for Electron's preload, http.ts for the serve host); main.ts
// picks one once, and nothing else in the UI knows which.
import type { ApiEvent, DinoscopeApi, DinoscopeEvents, ImportReport } from '../../../core/common/api.js';

/** A file the user dropped, with its path relative to the dropped folder ("" parts for a bare file). */
export interface DroppedFile {
  file: File;
  relativePath: string;
}

export interface ApiClient extends DinoscopeApi {
  readonly transport: 'bridge' | 'http';
  /** Subscribe to a host event; returns the unsubscribe function. */
  on<E extends ApiEvent>(event: E, listener: (payload: DinoscopeEvents[E]) => void): () => void;
  /** Import dropped files: by path through the bridge, by upload over HTTP. */
  importDropped(files: readonly DroppedFile[]): Promise<ImportReport>;
}

/** Merges per-file import reports into one. */
export function mergeReports(reports: readonly ImportReport[]): ImportReport {
  return {
    added: reports.flatMap((r) => r.added),
    skipped: reports.flatMap((r) => r.skipped),
    failed: reports.flatMap((r) => r.failed),
  };
}
