// The serve host's transport: POST /api/call/<method> with the arguments as a JSON array, answered by
// {ok: result} or {error: ErrorEnvelope}; host events over the WebSocket /api/events as {event, payload},
// reconnecting with backoff; dropped files streamed to POST /api/upload?name=…. Auth is the cookie the
// host set on the first `/?token=` load, so every request is same-origin with credentials.
// Each page load is its own client (core/common/client-id.ts): a random id sent with every call, so this
// window's similarity query and maps stay its own when other browsers use the same host.
import { isApiEvent, type ApiEvent, type DinoscopeEvents, type ImportReport } from '../../../core/common/api.js';
import { CLIENT_HEADER } from '../../../core/common/client-id.js';
import { DinoscopeError } from '../../../core/common/errors.js';
import { mergeReports, type ApiClient, type DroppedFile } from './client.js';
import { EventHub } from './emitter.js';
import { toDinoscopeError } from './errors.js';
import { apiFromCaller } from './methods.js';

interface Answer {
  ok?: unknown;
  error?: unknown;
}

async function readAnswer(res: Response, what: string): Promise<unknown> {
  let body: Answer;
  try {
    body = (await res.json()) as Answer;
  } catch {
    throw new DinoscopeError(res.status === 403 ? 'FORBIDDEN' : 'INTERNAL', `${what}: the host answered ${res.status} without JSON.`);
  }
  if (body && 'error' in body && body.error !== undefined) throw toDinoscopeError(body.error);
  if (!res.ok) throw new DinoscopeError('INTERNAL', `${what}: the host answered ${res.status}.`);
  return body.ok;
}

/** Keeps one WebSocket to /api/events open, reconnecting after 0.5 s, 1 s, 2 s … (at most 5 s). */
function connectEvents(origin: URL, hub: EventHub): void {
  const url = new URL('api/events', origin);
  url.protocol = origin.protocol === 'https:' ? 'wss:' : 'ws:';
  let delay = 500;
  const open = (): void => {
    const ws = new WebSocket(url);
    ws.onopen = () => {
      delay = 500;
    };
    ws.onmessage = (msg) => {
      let data: { event?: unknown; payload?: unknown };
      try {
        data = JSON.parse(String(msg.data)) as typeof data;
      } catch {
        return;
      }
      if (isApiEvent(data.event)) hub.emit(data.event, data.payload as DinoscopeEvents[typeof data.event]);
    };
    ws.onclose = () => {
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  open();
}

/** 24 random hex digits (crypto.getRandomValues works on plain-HTTP hosts too, unlike randomUUID). */
function newClientId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createHttpApi(origin: URL): ApiClient {
  const hub = new EventHub();
  const client = newClientId();
  connectEvents(origin, hub);
  const api = apiFromCaller(async (method, args) => {
    const res = await fetch(new URL(`api/call/${method}`, origin), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', [CLIENT_HEADER]: client },
      body: JSON.stringify(args),
    });
    return readAnswer(res, method);
  });

  async function upload(d: DroppedFile): Promise<ImportReport> {
    const url = new URL('api/upload', origin);
    url.searchParams.set('name', d.relativePath || d.file.name);
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/octet-stream' },
      body: d.file,
    });
    return (await readAnswer(res, `upload of ${d.file.name}`)) as ImportReport;
  }

  return {
    ...api,
    transport: 'http',
    on: <E extends ApiEvent>(event: E, listener: (payload: DinoscopeEvents[E]) => void) => hub.on(event, listener),
    async importDropped(files) {
      const reports: ImportReport[] = [];
      // One at a time: slides are large and the host imports each as it lands.
      for (const f of files) {
        try {
          reports.push(await upload(f));
        } catch (err) {
          reports.push({
            added: [],
            skipped: [],
            failed: [{ path: f.relativePath || f.file.name, reason: toDinoscopeError(err).message }],
          });
        }
      }
      return mergeReports(reports);
    },
  };
}
