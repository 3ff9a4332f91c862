// The service process: the desktop app's AppService (with its ReaderPool) answering the main process's
// messages (messages.ts). PCA, k-means, imports and every other long call run on this process's event
// loop, so the main process — windows, menus, IPC — never waits for them. Nothing here imports electron:
// the same code runs as Electron's utility process and as a plain forked Node process (the tests).
import { apiEvents, isApiMethod, type ApiEvent } from '../../core/common/api.js';
import { DinoscopeError, toEnvelope } from '../../core/common/errors.js';
import { AppService, rootAssetUrls, type AppHostHooks } from '../../core/app/service.js';
import { ReaderPool } from '../../core/reader-pool/pool.js';
import { routeAssetRequest } from '../../core/tiles/router.js';
import { assetsOrigin } from '../main/csp.js';
import type { CallResult, FromService, ServiceStart, ToService } from './messages.js';

/** The parent's end of the channel, whichever kind of process this is. */
export interface ParentLink {
  post(message: FromService): void;
  onMessage(listener: (message: ToService) => void): void;
}

/** Electron's asset URLs: the router's paths on the dinoscope://assets origin. */
export const electronAssetUrls: AppHostHooks['urls'] = {
  tile: (id) => assetsOrigin + rootAssetUrls.tile(id),
  thumbnail: (id) => assetsOrigin + rootAssetUrls.thumbnail(id),
  overlay: (id, overlayId) => assetsOrigin + rootAssetUrls.overlay(id, overlayId),
};

/** Runs the service for `parent` until it says close; then `exit` (process.exit in the real entry). */
export function serveService(parent: ParentLink, start: ServiceStart, exit: () => void): void {
  const readers = new ReaderPool();
  const dialogs = new Map<number, (paths: string[]) => void>();
  let nextDialog = 1;
  const service = new AppService({
    host: 'electron',
    version: start.version,
    urls: electronAssetUrls,
    homeDir: start.homeDir,
    formats: readers.formats(),
    // Only the main process can show a native dialog: ask it, and wait for its answer.
    showOpenDialog: (kind) =>
      new Promise((resolve) => {
        const id = nextDialog++;
        dialogs.set(id, resolve);
        parent.post({ type: 'dialog', id, kind });
      }),
  });
  for (const name of Object.keys(apiEvents) as ApiEvent[]) service.on(name, (payload) => parent.post({ type: 'event', name, payload }));

  const call = async (method: unknown, args: unknown): Promise<CallResult> => {
    try {
      if (!isApiMethod(method)) throw new DinoscopeError('BAD_INPUT', `Unknown API method ${JSON.stringify(method)}.`);
      if (!Array.isArray(args)) throw new DinoscopeError('BAD_INPUT', `Arguments of ${method} must be an array.`);
      const fn = service[method] as (...a: unknown[]) => Promise<unknown>;
      const ok: unknown = await fn.apply(service, args);
      return { ok: ok === undefined ? null : ok };
    } catch (err) {
      return { error: toEnvelope(err) };
    }
  };

  let closing = false;
  parent.onMessage((message) => {
    switch (message.type) {
      case 'call':
        void call(message.method, message.args).then((result) => parent.post({ type: 'result', id: message.id, result }));
        return;
      case 'asset':
        // routeAssetRequest answers every failure as a response, never a rejection.
        void routeAssetRequest(service, message.pathname).then((response) =>
          parent.post({ type: 'assetResult', id: message.id, response }),
        );
        return;
      case 'dialogResult':
        dialogs.get(message.id)?.(message.paths);
        dialogs.delete(message.id);
        return;
      case 'close':
        if (closing) return;
        closing = true;
        // Running jobs stop, training children checkpoint and exit, project files settle.
        void service
          .close()
          .then(() => readers.close())
          .catch((err: unknown) => console.error('dinoscope service: closing the project failed', err))
          .finally(exit);
        return;
    }
  });
  parent.post({ type: 'ready' });
}
