// Electron's transport: the preload's `window.dinoscope` (DinoscopeBridge). Dropped files are imported
// by their absolute paths (webUtils.getPathForFile in the preload), never uploaded.
import type { ApiEvent, ApiMethod, DinoscopeApi, DinoscopeEvents, ImportReport } from '../../../core/common/api.js';
import type { DinoscopeBridge } from '../../../core/common/bridge.js';
import type { ApiClient } from './client.js';
import { toDinoscopeError } from './errors.js';
import { apiFromCaller } from './methods.js';

type LooseCall = (method: ApiMethod, ...args: unknown[]) => Promise<unknown>;

export function createBridgeApi(bridge: DinoscopeBridge): ApiClient {
  const call = bridge.call.bind(bridge) as unknown as LooseCall;
  const api: DinoscopeApi = apiFromCaller(async (method, args) => {
    try {
      return await call(method, ...args);
    } catch (err) {
      throw toDinoscopeError(err);
    }
  });
  return {
    ...api,
    transport: 'bridge',
    on: <E extends ApiEvent>(event: E, listener: (payload: DinoscopeEvents[E]) => void) => bridge.on(event, listener),
    importDropped(files): Promise<ImportReport> {
      const paths = bridge.pathsForFiles(files.map((f) => f.file)).filter((p) => p.length > 0);
      return api.importPaths(paths);
    },
  };
}
