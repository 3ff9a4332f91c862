// The DinoscopeBridge the preload exposes, built over a minimal IPC surface so it is tested without
// Electron. Only names of the contract pass (isApiMethod / isApiEvent); results arrive as
// { ok } | { error }. A failed call rejects with the ErrorEnvelope itself ({ name, message, code }, a
// DinoscopeError-like plain object): contextBridge copies a thrown Error with its message only and drops
// custom properties such as `code`, while a plain object crosses whole (the renderer's
// toDinoscopeError turns it back into a DinoscopeError).
import { isApiEvent, isApiMethod, type ApiEvent, type ApiMethod } from '../../core/common/api.js';
import { ipcChannels, type DinoscopeBridge } from '../../core/common/bridge.js';
import { isErrorEnvelope, type ErrorCode, type ErrorEnvelope } from '../../core/common/errors.js';

/** The part of Electron's ipcRenderer the bridge uses. */
export interface BridgeIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
}

const envelope = (code: ErrorCode, message: string): ErrorEnvelope => ({ name: 'DinoscopeError', message, code });

function unwrap(method: string, result: unknown): unknown {
  if (typeof result === 'object' && result !== null) {
    if ('error' in result && isErrorEnvelope(result.error)) {
      const { name, message, code } = result.error;
      throw { name, message, code } satisfies ErrorEnvelope;
    }
    if ('ok' in result) return result.ok;
  }
  throw envelope('INTERNAL', `The app answered ${method} with a malformed reply.`);
}

export function createBridge(ipc: BridgeIpc, pathForFile: (file: unknown) => string): DinoscopeBridge {
  const listeners = new Map<ApiEvent, Set<(payload: unknown) => void>>();
  let subscribed = false;
  // One IPC listener for all events; the bridge fans out by name.
  const onEvent = (_event: unknown, name: unknown, payload: unknown): void => {
    if (!isApiEvent(name)) return;
    for (const listener of [...(listeners.get(name) ?? [])]) {
      try {
        listener(payload);
      } catch (err) {
        console.error(`dinoscope: a ${name} listener threw`, err);
      }
    }
  };

  const call = async (method: ApiMethod, ...args: unknown[]): Promise<unknown> => {
    if (!isApiMethod(method)) throw envelope('NOT_FOUND', `${JSON.stringify(method)} is not an API method.`); // as core/app/dispatch.ts words it
    return unwrap(method, await ipc.invoke(ipcChannels.call, method, args));
  };

  const on = (event: ApiEvent, listener: (payload: unknown) => void): (() => void) => {
    if (!isApiEvent(event)) throw new TypeError(`Unknown API event ${JSON.stringify(event)}.`);
    if (typeof listener !== 'function') throw new TypeError(`The ${event} listener must be a function.`);
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    if (!subscribed) {
      ipc.on(ipcChannels.event, onEvent as (event: unknown, ...args: unknown[]) => void);
      subscribed = true;
    }
    return () => {
      set.delete(listener);
      const empty = [...listeners.values()].every((s) => s.size === 0);
      if (empty && subscribed) {
        ipc.removeListener(ipcChannels.event, onEvent as (event: unknown, ...args: unknown[]) => void);
        subscribed = false;
      }
    };
  };

  const pathsForFiles = (files: readonly unknown[]): string[] => Array.from(files, (f) => pathForFile(f)).filter((p) => p !== '');

  return {
    call: call as DinoscopeBridge['call'],
    on: on as DinoscopeBridge['on'],
    pathsForFiles,
  };
}
