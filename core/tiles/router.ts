// The one asset router both hosts use (the serve host's HTTP server and Electron's custom protocol):
//   /tiles/<imageId>/<level>/<x>_<y>.jpeg
//   /thumbs/<imageId>.jpg
//   /overlays/<imageId>/<overlayId>/<level>/<x>_<y>.png
// Parsing is strict (whole-path regexes over a small alphabet); a URL never becomes a file path: ids are
// looked up in the open project. Traversal, encodings, backslashes and NUL → 400; unknown → 404.
import { toEnvelope } from '../common/errors.js';

export interface AssetSource {
  tile(imageId: string, level: number, x: number, y: number): Promise<Uint8Array>;
  thumbnail(imageId: string): Promise<Uint8Array>;
  overlayTile(imageId: string, overlayId: string, level: number, x: number, y: number): Promise<Uint8Array>;
}

export interface AssetResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

const ID = '([0-9a-f]{16})';
const COORDS = '(\\d{1,2})/(\\d{1,7})_(\\d{1,7})';
const TILE = new RegExp(`^/tiles/${ID}/${COORDS}\\.jpeg$`);
const THUMB = new RegExp(`^/thumbs/${ID}\\.jpg$`);
const OVERLAY = new RegExp(`^/overlays/${ID}/([a-z0-9][a-z0-9-]{0,63})/${COORDS}\\.png$`);
/** Characters that have no business in an asset path. */
const SUSPICIOUS = /\.\.|%|\\|\0|\/\/|[^\x21-\x7e]/;

const text = (status: number, message: string): AssetResponse => ({
  status,
  headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
  body: message + '\n',
});

function bytes(type: string, body: Uint8Array): AssetResponse {
  return {
    status: 200,
    headers: {
      'Content-Type': type,
      'Cache-Control': 'private, max-age=300',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': String(body.byteLength),
    },
    body,
  };
}

/** `pathname` is the URL's path only (no query), exactly as received (still percent-encoded). */
export async function routeAssetRequest(service: AssetSource, pathname: string): Promise<AssetResponse> {
  if (typeof pathname !== 'string' || pathname.length > 256 || SUSPICIOUS.test(pathname)) return text(400, 'Bad asset path.');
  try {
    let m = TILE.exec(pathname);
    if (m) return bytes('image/jpeg', await service.tile(m[1], Number(m[2]), Number(m[3]), Number(m[4])));
    m = THUMB.exec(pathname);
    if (m) return bytes('image/jpeg', await service.thumbnail(m[1]));
    m = OVERLAY.exec(pathname);
    if (m) return bytes('image/png', await service.overlayTile(m[1], m[2], Number(m[3]), Number(m[4]), Number(m[5])));
  } catch (err) {
    const env = toEnvelope(err);
    const status =
      env.code === 'NOT_FOUND' || env.code === 'FORBIDDEN'
        ? 404
        : env.code === 'BAD_INPUT'
          ? 400
          : env.code === 'UNSUPPORTED' || env.code === 'CORRUPT' || env.code === 'TOO_LARGE'
            ? 422
            : 500;
    return text(status, env.message);
  }
  return /^\/(tiles|thumbs|overlays)\//.test(pathname) ? text(400, 'Malformed asset path.') : text(404, 'Not found.');
}

/** Whether a path belongs to the asset router (hosts route these before anything else). */
export function isAssetPath(pathname: string): boolean {
  return /^\/(tiles|thumbs|overlays)\//.test(pathname);
}
