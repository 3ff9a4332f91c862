// The IPC call path without Electron: ipc.ts registers ONE handler on ipcChannels.call that hands each
// request here. A call is answered only for the main window's own page (dinoscope://app/…), then goes
// through core/app/dispatch.ts (the call path the serve host shares), and always with { ok } | { error } —
// nothing is thrown across the process boundary.
import { apiEvents, type ApiEvent, type DinoscopeApi, type DinoscopeEvents } from '../../core/common/api.js';
import { dispatch } from '../../core/app/dispatch.js';
import { DinoscopeError, toEnvelope, type ErrorEnvelope } from '../../core/common/errors.js';
import { appOrigin } from './csp.js';

export type CallResult = { ok: unknown } | { error: ErrorEnvelope };

/** Who sent an IPC call: the sending webContents' id and the URL of the frame that sent it. */
export interface CallSender {
  webContentsId: number;
  frameUrl: string;
  /** Whether the sending frame is the window's top frame (subframes never call the API). */
  mainFrame: boolean;
}

export interface DispatchOptions {
  service: DinoscopeApi;
  /** The id of the main window's webContents, or null while there is none. */
  trustedWebContentsId(): number | null;
}

export type Dispatcher = (sender: CallSender, method: unknown, args: unknown) => Promise<CallResult>;

/** True when the frame URL is a page of the app origin (not merely a prefix look-alike). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'dinoscope:' && u.host.toLowerCase() === 'app' && url.startsWith(`${appOrigin}/`);
  } catch {
    return false;
  }
}

export function createDispatcher(options: DispatchOptions): Dispatcher {
  return async (sender: CallSender, method: unknown, args: unknown): Promise<CallResult> => {
    try {
      const trusted = options.trustedWebContentsId();
      if (trusted === null || sender.webContentsId !== trusted || !sender.mainFrame || !isAppUrl(sender.frameUrl)) {
        throw new DinoscopeError(
          'FORBIDDEN',
          `Refused an API call from ${sender.frameUrl || 'an unknown frame'}: only the Dinoscope window may call the API.`,
        );
      }
      return { ok: await dispatch(options.service, method, args) };
    } catch (err) {
      return { error: toEnvelope(err) };
    }
  };
}

/** The event side of the service: AppService.on, typed by the contract. */
export interface EventSource {
  on<E extends ApiEvent>(event: E, listener: (payload: DinoscopeEvents[E]) => void): () => void;
}

/** Forwards every contract event to `send` (webContents.send on ipcChannels.event); returns a function
 * that unsubscribes them all. */
export function forwardEvents(source: EventSource, send: (event: ApiEvent, payload: unknown) => void): () => void {
  const names = Object.keys(apiEvents) as ApiEvent[];
  const offs = names.map((name) => source.on(name, (payload) => send(name, payload)));
  return () => {
    for (const off of offs) off();
  };
}
