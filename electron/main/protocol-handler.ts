// dinoscope:// request → response, without Electron: protocol.ts only registers this function, and the
// tests call it directly with traversal attempts.
//   dinoscope://app/<file>                 a file of dist/renderer, resolved and checked to stay inside it
//   dinoscope://assets/{tiles,thumbs,overlays}/…  delegated to the asset router shared with `serve`
// Anything else is 404. Every response carries the CSP (csp.ts).
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { toEnvelope, type ErrorCode } from '../../core/common/errors.js';
import { mimeType } from '../../core/common/mime.js';
import { appOrigin, securityHeaders } from './csp.js';

export interface ProtocolResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string | null;
}

/** The asset router (core/tiles/router.ts bound to the app's service): pathname → response. */
export type AssetRouter = (pathname: string) => Promise<ProtocolResponse>;

export interface ProtocolHandlerOptions {
  /** Absolute path of the built renderer (dist/renderer). */
  rendererRoot: string;
  routeAsset: AssetRouter;
}

export type ProtocolHandler = (url: string, method?: string) => Promise<ProtocolResponse>;

const assetKinds = new Set(['tiles', 'thumbs', 'overlays']);

const statusOf: Record<ErrorCode, number> = {
  BAD_INPUT: 400,
  NOT_FOUND: 404,
  UNSUPPORTED: 415,
  CORRUPT: 422,
  TOO_LARGE: 413,
  FORBIDDEN: 403,
  CANCELLED: 499,
  INTERNAL: 500,
};

function text(status: number, message: string): ProtocolResponse {
  return { status, headers: { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8' }, body: message };
}

function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The URL path as safe path segments, or null when any segment could leave the folder: `..`/`.`
 * (also percent-encoded), separators hidden by encoding (`%2f`, `%5c`), NUL, drive letters. */
export function safeSegments(pathname: string): string[] | null {
  const out: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null; // malformed escape
    }
    if (seg === '.' || seg === '..' || /[/\\\0:]/.test(seg)) return null;
    out.push(seg);
  }
  return out;
}

async function serveFile(root: string, pathname: string, head: boolean): Promise<ProtocolResponse> {
  const segments = safeSegments(pathname);
  if (!segments) return text(403, `Refused: ${pathname} is not a path inside the app.`);
  if (segments.length === 0) segments.push('index.html');
  const candidate = path.join(root, ...segments);
  if (!inside(root, candidate)) return text(403, `Refused: ${pathname} is not a path inside the app.`);
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(candidate), realpath(root)]);
  } catch {
    return text(404, `Not found: ${pathname}`);
  }
  // A symlink inside the folder may point anywhere: the resolved target must stay inside too.
  if (!inside(realRoot, real)) return text(403, `Refused: ${pathname} leads outside the app.`);
  const info = await stat(real);
  if (!info.isFile()) return text(404, `Not found: ${pathname}`);
  const type = mimeType(path.extname(real));
  const headers = { ...securityHeaders(), 'Content-Type': type, 'Content-Length': String(info.size), 'Cache-Control': 'no-cache' };
  return { status: 200, headers, body: head ? null : new Uint8Array(await readFile(real)) };
}

async function serveAsset(route: AssetRouter, pathname: string): Promise<ProtocolResponse> {
  const kind = pathname.split('/')[1] ?? '';
  if (!assetKinds.has(kind)) return text(404, `Not found: ${pathname}`);
  try {
    const res = await route(pathname);
    // The page (dinoscope://app) reads these cross-origin: a WebGL drawer needs CORS-clean images.
    return { ...res, headers: { ...res.headers, ...securityHeaders(), 'Access-Control-Allow-Origin': appOrigin } };
  } catch (err) {
    const env = toEnvelope(err);
    return text(statusOf[env.code], env.message);
  }
}

export function createProtocolHandler(options: ProtocolHandlerOptions): ProtocolHandler {
  const root = path.resolve(options.rendererRoot);
  return async (url: string, method = 'GET'): Promise<ProtocolResponse> => {
    if (method !== 'GET' && method !== 'HEAD') return text(405, `Method ${method} is not allowed.`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return text(400, `Bad URL: ${url}`);
    }
    if (parsed.protocol !== 'dinoscope:') return text(404, `Not found: ${url}`);
    const host = parsed.host.toLowerCase();
    if (host === 'app') return serveFile(root, parsed.pathname, method === 'HEAD');
    if (host === 'assets') return serveAsset(options.routeAsset, parsed.pathname);
    return text(404, `Not found: ${url}`);
  };
}
