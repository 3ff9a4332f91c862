// Entry of the service process (bundled to dist/electron/service.worker.cjs by scripts/build.mjs): the
// AppService of child.ts on whichever channel this process has. Started by Electron's main process as a
// utility process (`process.parentPort`, Electron's MessagePortMain) or, outside Electron, forked by Node
// with an IPC channel (`process.send`); electron/main/service-process.ts is the other end.
import { serveService, type ParentLink } from './child.js';
import type { FromService, ServiceStart, ToService } from './messages.js';

/** Electron's parentPort in a utility process (not in Node's types). */
interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

function parentLink(): ParentLink {
  const port = (process as { parentPort?: ElectronParentPort }).parentPort;
  if (port) {
    return {
      post: (m: FromService) => port.postMessage(m),
      onMessage: (listener) => port.on('message', (e) => listener(e.data as ToService)),
    };
  }
  const send = process.send?.bind(process);
  if (!send) throw new Error('The Dinoscope service process must be started by the app (it has no channel to its parent).');
  // The parent is gone (it crashed or was killed): nobody can use this service any more.
  process.on('disconnect', () => process.exit(0));
  return {
    post: (m: FromService) => void send(m),
    onMessage: (listener) => process.on('message', (m) => listener(m as ToService)),
  };
}

const start = JSON.parse(process.argv[2] ?? '{}') as ServiceStart;
serveService(parentLink(), start, () => process.exit(0));
