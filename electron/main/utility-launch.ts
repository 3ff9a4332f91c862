// Starting the service process as an Electron utility process (a Node process Electron manages: no
// ELECTRON_RUN_AS_NODE needed, ended with the app). The child talks through process.parentPort; see
// electron/service/service.worker.ts.
import { utilityProcess } from 'electron';
import type { FromService, ServiceStart } from '../service/messages.js';
import { serviceEntry } from './service-launch.js';
import type { ServiceLink } from './service-process.js';

/** Whether this electron module can start utility processes (the main-process tests' stand-in may not). */
export function hasUtilityProcess(): boolean {
  return typeof utilityProcess?.fork === 'function';
}

export function launchUtility(start: ServiceStart): ServiceLink {
  const entry = serviceEntry();
  if (entry.ts) throw new Error('The service process was not built: run `npm run build` (dist/electron/service.worker.cjs).');
  const child = utilityProcess.fork(entry.path, [JSON.stringify(start)], { serviceName: 'Dinoscope engine', stdio: 'inherit' });
  return {
    get pid() {
      return child.pid;
    },
    post: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', (m: unknown) => listener(m as FromService)),
    onExit: (listener) => child.once('exit', (code) => listener(`exit code ${code}`)),
    kill: () => void child.kill(),
  };
}
