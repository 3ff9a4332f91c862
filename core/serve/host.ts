// The serve host: the built renderer, the API over HTTP (POST /api/call/<method>), events over a
// WebSocket (/api/events), asset tiles (core/tiles/router.ts) and uploads, all behind two random tokens:
// the editor's (everything) and the viewer's (the API methods marked 'read', core/common/api-schema.ts).
// Routes and status codes are documented in core/serve/README.md.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { homedir, networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { apiEvents, type ApiEvent, type Role } from '../common/api.js';
import { DinoscopeError, FieldError, toEnvelope, type ErrorCode } from '../common/errors.js';
import { asClient, clientFrom } from '../app/caller.js';
import { dispatch } from '../app/dispatch.js';
import { CLIENT_HEADER, CLIENT_PARAM } from '../common/client-id.js';
import { AppService, rootAssetUrls } from '../app/service.js';
import { Project } from '../project/project.js';
import { ReaderPool } from '../reader-pool/pool.js';
import { isAssetPath, routeAssetRequest } from '../tiles/router.js';
import { hostAllowed, isLoopback, newToken, originAllowed, requestRole, roleOfToken, sessionCookie } from './auth.js';
import { contentSecurityPolicy, serveStatic } from './static.js';
import { receiveUpload } from './upload.js';

export interface ServeHostOptions {
  /** A project folder to open (created when it holds no project.json). */
  projectPath?: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** Diagnostics for a person (stderr in the CLI). */
  log(line: string): void;
  version?: string;
  /** A fixed editor token (a token file, tests); random otherwise. */
  token?: string;
  /** A fixed viewer token (read-only); random otherwise. Must differ from the editor's. */
  viewerToken?: string;
  /** How long one read of an image file may take before it is refused (default 30 s; core/reader-pool). */
  readerBudgetMs?: number;
}

export interface ServeHost {
  /** The editor's link (with its token) and the viewer's. */
  url: string;
  viewerUrl: string;
  port: number;
  token: string;
  viewerToken: string;
  service: AppService;
  close(): Promise<void>;
}

const MAX_CALL_BODY = 4 * 1024 * 1024;

const statusOf: Record<ErrorCode, number> = {
  BAD_INPUT: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CANCELLED: 409,
  UNSUPPORTED: 422,
  CORRUPT: 422,
  TOO_LARGE: 422,
  INTERNAL: 500,
};

function baseHeaders(hostHeader: string): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': contentSecurityPolicy(hostHeader),
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Uint8Array | string): void {
  res.writeHead(status, headers);
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, value: unknown): void {
  send(res, status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }, JSON.stringify(value));
}

function sendError(res: ServerResponse, headers: Record<string, string>, err: unknown): void {
  const env = toEnvelope(err);
  sendJson(res, statusOf[env.code] ?? 500, headers, { error: env });
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new DinoscopeError('TOO_LARGE', `The request body is over ${limit} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The method name of /api/call/<name>, percent-decoded; malformed encodings are the caller's mistake. */
function methodName(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new DinoscopeError('BAD_INPUT', `The API method name in /api/call/${encoded.slice(0, 60)} is not valid percent-encoding.`);
  }
}

/** Parses the JSON body and hands the call to the one dispatch Electron IPC also uses. */
async function callMethod(service: AppService, method: string, body: string, role: Role): Promise<unknown> {
  let args: unknown;
  try {
    args = body.trim() === '' ? [] : JSON.parse(body);
  } catch {
    throw new DinoscopeError('BAD_INPUT', `The arguments of ${method} are not valid JSON.`);
  }
  return dispatch(service, method, args, role);
}

/** This machine's IPv4 addresses other machines may reach (not loopback), IPv6 ones bracketed after them. */
function externalAddresses(): string[] {
  const all = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal);
  return [
    ...all.filter((a) => a!.family === 'IPv4').map((a) => a!.address),
    ...all.filter((a) => a!.family === 'IPv6' && !a!.address.startsWith('fe80')).map((a) => `[${a!.address}]`),
  ];
}

export async function startServeHost(options: ServeHostOptions): Promise<ServeHost> {
  // ws is loaded when a host starts, not when the CLI starts (every `dinoscope` command would pay for it).
  const { WebSocketServer } = await import('ws');
  const token = options.token ?? newToken();
  const viewerToken = options.viewerToken ?? newToken();
  if (viewerToken === token) throw new FieldError('viewerToken', 'the viewer token must differ from the editor token.');
  const tokens = { editor: token, viewer: viewerToken };
  // Every read of an image file (import, thumbnails, tiles) runs in the pool's worker threads: a slow or
  // hostile file never holds up the other requests.
  const readers = new ReaderPool({ budgetMs: options.readerBudgetMs });
  const service = new AppService({
    host: 'serve',
    version: options.version ?? '0.0.0',
    urls: rootAssetUrls,
    homeDir: homedir(),
    formats: readers.formats(),
  });
  const closeService = async (): Promise<void> => {
    await service.close();
    await readers.close();
  };
  if (options.projectPath) {
    try {
      if (await Project.exists(options.projectPath)) await service.openProject(options.projectPath);
      else {
        await service.createProject(options.projectPath);
        options.log(`dinoscope serve: created a new project in ${options.projectPath}`);
      }
    } catch (err) {
      await closeService();
      throw err;
    }
  }
  let port = options.port;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, {}, err);
      else res.destroy();
    });
  });

  /** Host, Origin and token checks shared by HTTP requests and WebSocket upgrades: the status to refuse
   * with, or the caller's role. */
  function admission(req: IncomingMessage, url: URL): 403 | 401 | Role {
    if (!hostAllowed(req.headers.host, options.host, port)) return 403;
    if (!originAllowed(req.headers.origin, req.headers.host)) return 403;
    return requestRole(req, url, tokens) ?? 401;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const hostHeader = req.headers.host ?? '';
    const headers = baseHeaders(hostHeader);
    const admitted = admission(req, url);
    if (typeof admitted === 'number') {
      const refused = admitted;
      const why =
        refused === 401 ? 'A valid token is required: open the URL dinoscope serve printed.' : 'Forbidden: foreign Host or Origin.';
      send(res, refused, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, why + '\n');
      return;
    }
    // Route on the path as sent: WHATWG URL parsing would resolve ../ and %2e%2e before we could see them.
    const rawPath = (req.url ?? '/').split('?')[0];
    const path = url.pathname;
    if (rawPath !== path || /%2e|%2f|%5c|%00/i.test(rawPath))
      return send(res, 400, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, 'Bad path.\n');
    const role = admitted;
    // First page load with ?token=: keep it as a cookie (the editor's or the viewer's, as given) and drop it
    // from the address bar. A wrong ?token= beside a valid cookie leaves the cookie as it is.
    if (req.method === 'GET' && url.searchParams.has('token') && !path.startsWith('/api/') && !isAssetPath(path)) {
      const given = url.searchParams.get('token');
      url.searchParams.delete('token');
      const rest = url.searchParams.toString();
      const cookie: Record<string, string> = given !== null && roleOfToken(given, tokens) ? { 'Set-Cookie': sessionCookie(given) } : {};
      send(res, 302, { ...headers, ...cookie, Location: path + (rest ? `?${rest}` : ''), 'Cache-Control': 'no-store' }, '');
      return;
    }
    if (isAssetPath(path)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { ...headers, Allow: 'GET, HEAD' }, '');
      // An analysis overlay's tiles are the client's named in their URL (the one whose call made the layer).
      let r;
      try {
        const client = clientFrom(url.searchParams.get(CLIENT_PARAM));
        r = await asClient(client, () => routeAssetRequest(service, rawPath));
      } catch (err) {
        return send(res, 400, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, `${toEnvelope(err).message}\n`);
      }
      return send(res, r.status, { ...headers, ...r.headers }, req.method === 'HEAD' ? '' : r.body);
    }
    if (path.startsWith('/api/call/')) {
      if (req.method !== 'POST')
        return sendJson(
          res,
          405,
          { ...headers, Allow: 'POST' },
          { error: toEnvelope(new DinoscopeError('BAD_INPUT', 'API calls are POST requests.')) },
        );
      const type = req.headers['content-type'];
      if (type && !/^application\/json\b/i.test(type))
        return sendJson(res, 415, headers, {
          error: toEnvelope(new DinoscopeError('BAD_INPUT', 'API calls take a JSON array (Content-Type: application/json).')),
        });
      try {
        const client = clientFrom(req.headers[CLIENT_HEADER]);
        const body = await readBody(req, MAX_CALL_BODY);
        const result = await asClient(client, () => callMethod(service, methodName(path.slice('/api/call/'.length)), body, role));
        sendJson(res, 200, headers, { ok: result });
      } catch (err) {
        sendError(res, headers, err);
      }
      return;
    }
    if (path === '/api/upload') {
      if (req.method !== 'POST')
        return sendJson(
          res,
          405,
          { ...headers, Allow: 'POST' },
          { error: toEnvelope(new DinoscopeError('BAD_INPUT', 'Uploads are POST requests.')) },
        );
      try {
        if (role !== 'editor')
          throw new DinoscopeError(
            'FORBIDDEN',
            "Uploading imports images, and this link is the read-only viewer's: ask for the editor link.",
          );
        const project = service.requireProject();
        const stored = await receiveUpload(req, project.imagesDir, url.searchParams.get('name'));
        sendJson(res, 200, headers, { ok: await service.importPaths([stored]) });
      } catch (err) {
        req.resume();
        sendError(res, headers, err);
      }
      return;
    }
    if (path.startsWith('/api/'))
      return sendJson(res, 404, headers, { error: toEnvelope(new DinoscopeError('NOT_FOUND', `No API route ${path}.`)) });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { ...headers, Allow: 'GET, HEAD' }, '');
    const r = await serveStatic(options.rendererDir, path);
    send(res, r.status, { ...headers, 'Content-Type': r.type, 'Cache-Control': 'no-cache' }, req.method === 'HEAD' ? '' : r.body);
  }

  // ---- events over WebSocket ----
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const unsubscribe = (Object.keys(apiEvents) as ApiEvent[]).map((event) =>
    service.on(event, (payload) => {
      const message = JSON.stringify({ event, payload });
      for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(message);
    }),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const admitted = url.pathname === '/api/events' ? admission(req, url) : 404;
    if (typeof admitted === 'number') {
      const refused = admitted;
      const text = refused === 401 ? 'Unauthorized' : refused === 403 ? 'Forbidden' : 'Not Found';
      socket.end(`HTTP/1.1 ${refused} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('message', () => undefined); // the channel is one-way; calls go over HTTP
      wss.emit('connection', ws, req);
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      void closeService();
      if (err.code === 'EADDRINUSE')
        reject(new FieldError('port', `${options.port} on ${options.host} is in use: pick another (0 picks a free one).`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        reject(new FieldError('host', `${options.host} is not an address of this machine.`));
      else reject(err);
    });
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => options.log(`dinoscope serve: ${err.message}`));
      resolveListen();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  if (!isLoopback(options.host)) {
    options.log(
      `dinoscope serve: WARNING: listening on ${options.host}, not localhost: anyone who can reach this machine and learns a token gets its access (the editor's: everything), over plain HTTP. An SSH tunnel to a localhost host is safer (docs/serve.md).`,
    );
    // On a wildcard bind the printed links say 127.0.0.1; other machines need one of this machine's addresses.
    if (options.host === '0.0.0.0' || options.host === '::') {
      const addresses = externalAddresses();
      if (addresses.length)
        options.log(
          `dinoscope serve: other machines open http://${addresses[0]}:${port}/?token=… (this machine's addresses: ${addresses.join(', ')})`,
        );
    }
  }
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  const url = `http://${urlHost}:${port}/?token=${token}`;
  const viewerUrl = `http://${urlHost}:${port}/?token=${viewerToken}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unsubscribe.forEach((u) => u());
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await closeService();
    })();
    return closing;
  };
  return { url, viewerUrl, port, token, viewerToken, service, close };
}
