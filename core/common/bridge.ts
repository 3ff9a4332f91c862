// The one global the Electron preload exposes to the page (`window.dinoscope`), typed from the API
// contract. The preload builds it from `apiMethods`/`apiEvents` and rejects unknown names; nothing raw
// (no ipcRenderer, no Node) crosses. The renderer wraps it into a DinoscopeApi (renderer/src/api/).
import type { ApiEvent, ApiMethod, DinoscopeApi, DinoscopeEvents } from './api.js';

export interface DinoscopeBridge {
  call<M extends ApiMethod>(method: M, ...args: Parameters<DinoscopeApi[M]>): ReturnType<DinoscopeApi[M]>;
  /** Subscribe to a host event; returns the unsubscribe function. */
  on<E extends ApiEvent>(event: E, listener: (payload: DinoscopeEvents[E]) => void): () => void;
  /** Absolute paths of dropped File objects (Electron's webUtils.getPathForFile). Typed as unknown[]
   * because core/common has no DOM types; the renderer passes File objects. */
  pathsForFiles(files: readonly unknown[]): string[];
}

/** The name of the global the preload defines. */
export const bridgeGlobal = 'dinoscope';

/** The IPC channels the bridge uses: one for calls, one for events. */
export const ipcChannels = { call: 'dinoscope:call', event: 'dinoscope:event' } as const;
