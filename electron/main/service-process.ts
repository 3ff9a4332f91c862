// The main process's end of the service process (electron/service/): the AppService runs there, and this
// class stands in for it here — `api` (the contract, each call a message), `on` (its events), `asset` (the
// dinoscope://assets requests). Calls wait until the process says it is ready. A process that ends
// without being asked is a crash: calls in flight fail with a plain reason, running jobs are reported
// failed, the user is told (onCrash), and a new process starts and reopens the project that was open;
// after `maxCrashes` crashes within a minute it stays down and calls say so. How the process is started
// (Electron's utilityProcess or a Node fork) is the `launch` option: service-launch.ts.
import {
  apiMethods,
  isApiEvent,
  type ApiMethod,
  type DialogKind,
  type DinoscopeApi,
  type JobProgress,
  type ProjectSummary,
} from '../../core/common/api.js';
import { TypedEmitter } from '../../core/common/emitter.js';
import { DinoscopeError, fromEnvelope, toEnvelope } from '../../core/common/errors.js';
import type { AssetResponse } from '../../core/tiles/router.js';
import type { CallResult, FromService, ToService } from '../service/messages.js';

/** One running service process, however it was started. */
export interface ServiceLink {
  readonly pid: number | undefined;
  post(message: ToService): void;
  onMessage(listener: (message: FromService) => void): void;
  /** `how` says how it ended in words: "exit code 1", "signal SIGKILL". */
  onExit(listener: (how: string) => void): void;
  kill(): void;
}

export interface CrashReport {
  /** For the user: what happened, what was lost, what to do. */
  message: string;
  restarted: boolean;
}

export interface ServiceProcessOptions {
  launch(): ServiceLink;
  /** A native open dialog, asked for by the service. */
  showOpenDialog(kind: DialogKind): Promise<string[]>;
  onCrash(report: CrashReport): void;
  /** Crashes within a minute after which no new process is started (default 3). */
  maxCrashes?: number;
}

interface Waiting<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

const MINUTE = 60_000;
/** Why calls are refused once close() has begun. */
const quitting = new DinoscopeError('CANCELLED', 'Dinoscope is quitting.');

export class ServiceProcess {
  /** The contract, answered by the service process. */
  readonly api: DinoscopeApi;
  private readonly events = new TypedEmitter();
  private link: ServiceLink | null = null;
  /** Messages held until the process is ready; null once it is. */
  private held: ToService[] | null = [];
  private readonly calls = new Map<number, Waiting<CallResult>>();
  private readonly assets = new Map<number, Waiting<AssetResponse>>();
  private nextId = 1;
  /** Jobs last reported running, so a crash can report them failed. */
  private readonly running = new Map<string, JobProgress>();
  /** The project the service has open, reopened after a crash. */
  private projectPath: string | null = null;
  private crashes: number[] = [];
  /** Why calls are refused: the process stayed down after crashes, or the app is quitting. */
  private down: DinoscopeError | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** The project a restarted process opens first. */
  private reopen: string | null = null;

  constructor(private readonly options: ServiceProcessOptions) {
    const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const method of Object.keys(apiMethods) as ApiMethod[]) {
      api[method] = async (...args: unknown[]): Promise<unknown> => {
        const r = await this.call(method, args);
        if ('error' in r) throw fromEnvelope(r.error);
        return r.ok;
      };
    }
    this.api = api as unknown as DinoscopeApi;
    this.events.on('jobProgress', (p) => {
      if (p.state === 'running') this.running.set(p.jobId, p);
      else this.running.delete(p.jobId);
    });
    this.events.on('projectChanged', (p: ProjectSummary) => {
      this.projectPath = p.path;
    });
    this.start();
  }

  /** Subscribe to a contract event of the service; returns the unsubscribe function. */
  on: TypedEmitter['on'] = (event, listener) => this.events.on(event, listener);

  /** The process id of the current service process (tests end it to play a crash). */
  get pid(): number | undefined {
    return this.link?.pid;
  }

  /** One API call; never rejects: failures come back as an error envelope. */
  call(method: ApiMethod, args: unknown[]): Promise<CallResult> {
    if (this.down) return Promise.resolve({ error: toEnvelope(this.down) });
    return new Promise<CallResult>((resolve, reject) => {
      const id = this.nextId++;
      this.calls.set(id, { resolve, reject });
      this.send({ type: 'call', id, method, args });
    }).catch((err: unknown): CallResult => ({ error: toEnvelope(err) }));
  }

  /** A dinoscope://assets request, answered by core/tiles/router.ts in the service process. */
  asset(pathname: string): Promise<AssetResponse> {
    if (this.down) return Promise.reject(this.down);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.assets.set(id, { resolve, reject });
      this.send({ type: 'asset', id, pathname });
    });
  }

  /** Asks the service to stop its jobs and let project files settle, and waits for the process to end;
   * after `graceMs` it is killed. Calls made from now on are refused. */
  async close(graceMs = MINUTE): Promise<void> {
    if (this.down === quitting) return this.exited;
    this.down = quitting;
    const link = this.link;
    if (!link) return;
    const timer = setTimeout(() => link.kill(), graceMs);
    this.send({ type: 'close' });
    await this.exited;
    clearTimeout(timer);
  }

  /** Starts a service process; with `reopen`, the project is opened before any other call reaches it. */
  private start(reopen: string | null = null): void {
    const link = this.options.launch();
    this.link = link;
    this.held = [];
    this.reopen = reopen;
    let ended!: () => void;
    this.exited = new Promise((r) => (ended = r));
    link.onMessage((m) => this.receive(m));
    link.onExit((how) => {
      if (this.link === link) this.link = null;
      ended();
      if (this.down !== quitting) this.crashed(how);
    });
  }

  private send(message: ToService): void {
    if (this.held) this.held.push(message);
    else this.link?.post(message);
  }

  private receive(m: FromService): void {
    switch (m.type) {
      case 'ready': {
        const release = (): void => {
          const held = this.held ?? [];
          this.held = null;
          for (const message of held) this.link?.post(message);
        };
        if (!this.reopen) return release();
        // After a crash: the project first, so no call finds the service without it.
        const id = this.nextId++;
        this.calls.set(id, { resolve: release, reject: release });
        this.link?.post({ type: 'call', id, method: 'openProject', args: [this.reopen] });
        this.reopen = null;
        return;
      }
      case 'result':
        this.calls.get(m.id)?.resolve(m.result);
        this.calls.delete(m.id);
        return;
      case 'assetResult':
        this.assets.get(m.id)?.resolve(m.response);
        this.assets.delete(m.id);
        return;
      case 'event':
        if (isApiEvent(m.name)) this.events.emit(m.name, m.payload as never);
        return;
      case 'dialog':
        void this.options
          .showOpenDialog(m.kind)
          .catch(() => [])
          .then((paths) => this.send({ type: 'dialogResult', id: m.id, paths }));
        return;
    }
  }

  private crashed(how: string): void {
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < MINUTE), now];
    const restart = this.crashes.length < (this.options.maxCrashes ?? 3);
    const what = `Dinoscope's engine (the process that reads images and runs analyses) stopped unexpectedly (${how}).`;
    const failed = new DinoscopeError(
      'INTERNAL',
      `${what} ${restart ? 'It has been restarted: try again.' : 'Quit Dinoscope and start it again.'}`,
    );
    for (const w of [...this.calls.values(), ...this.assets.values()]) w.reject(failed);
    this.calls.clear();
    this.assets.clear();
    for (const p of this.running.values())
      this.events.emit('jobProgress', { ...p, state: 'failed', etaSeconds: null, message: 'stopped: the engine crashed' });
    this.running.clear();
    const project = this.projectPath;
    if (restart) {
      this.start(project);
    } else {
      this.down = new DinoscopeError(
        'INTERNAL',
        `Dinoscope's engine stopped ${this.crashes.length} times within a minute and was not restarted: quit Dinoscope and start it again.`,
      );
    }
    this.options.onCrash({
      restarted: restart,
      message: restart
        ? `${what} It has been restarted${project ? ' and your project reopened' : ''}. Jobs that were running stopped: start them again (finished results are kept on disk).`
        : `${what} It stopped ${this.crashes.length} times within a minute, so it was not restarted. Quit Dinoscope and start it again; your project's files are kept.`,
    });
  }
}
