// The messages between Electron's main process and the service process (service.worker.ts), both ways: a
// discriminated union on `type`; requests carry an `id` their answer repeats. Values cross by structured
// clone (Electron's utility-process ports, or Node's 'advanced' IPC serialisation for a forked child),
// so tile bytes travel as Uint8Array and errors as the contract's envelope.
import type { ApiEvent, ApiMethod, DialogKind } from '../../core/common/api.js';
import type { ErrorEnvelope } from '../../core/common/errors.js';
import type { AssetResponse } from '../../core/tiles/router.js';

/** An API call's outcome, never a thrown object. */
export type CallResult = { ok: unknown } | { error: ErrorEnvelope };

/** Main process → service process. */
export type ToService =
  | { type: 'call'; id: number; method: ApiMethod; args: unknown[] }
  /** A dinoscope://assets request: the URL's path, still percent-encoded. */
  | { type: 'asset'; id: number; pathname: string }
  /** The answer to the service's `dialog` request. */
  | { type: 'dialogResult'; id: number; paths: string[] }
  /** Stop jobs, let project files settle, then exit (the parent sees the process end). */
  | { type: 'close' };

/** Service process → main process. */
export type FromService =
  /** Listening: calls may be sent. */
  | { type: 'ready' }
  | { type: 'result'; id: number; result: CallResult }
  | { type: 'assetResult'; id: number; response: AssetResponse }
  | { type: 'event'; name: ApiEvent; payload: unknown }
  /** The service wants a native open dialog (only the main process can show one). */
  | { type: 'dialog'; id: number; kind: DialogKind };

/** What the service process needs from its parent at start (its first argument, as JSON). */
export interface ServiceStart {
  version: string;
  homeDir: string;
}
