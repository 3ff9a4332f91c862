// Starting the service process (electron/service/service.worker.ts) as a Node child: the same entry
// Electron starts as a utility process (utility-launch.ts), forked with an IPC channel ('advanced'
// serialisation: structured clone, as Electron's ports) through core/io/fork.ts. Used by the tests and
// wherever the electron module offers no utilityProcess.
import { findWorker, forkWorker, type WorkerFile } from '../../core/io/fork.js';
import type { FromService, ServiceStart } from '../service/messages.js';
import type { ServiceLink } from './service-process.js';

/** The service entry: dist/electron/service.worker.cjs beside the main bundle, else the .ts source. */
export function serviceEntry(): WorkerFile {
  return findWorker('service.worker.cjs', '../electron/service/service.worker.ts');
}

/** Forks the service entry; its output goes to `log` line by line. */
export function forkService(
  start: ServiceStart,
  log: (line: string) => void = (l) => console.error(`dinoscope service: ${l}`),
): ServiceLink {
  const child = forkWorker(serviceEntry(), log, [JSON.stringify(start)]);
  return {
    pid: child.pid,
    post: (message) => {
      // A process that just ended cannot take messages; its exit is reported by onExit.
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as FromService)),
    onExit: (listener) => child.once('exit', (code, signal) => listener(signal ? `signal ${signal}` : `exit code ${code ?? 'unknown'}`)),
    kill: () => void child.kill('SIGKILL'),
  };
}
