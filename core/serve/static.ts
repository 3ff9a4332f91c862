// Static files of the built renderer (dist/renderer), with MIME types and the page's security headers.
// URL paths are decoded once, must stay inside the renderer folder, and paths without an extension fall
// back to index.html (the UI routes itself).
import { readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { mimeType } from '../common/mime.js';

export interface StaticResponse {
  status: number;
  type: string;
  body: Uint8Array | string;
}

const missingPage = (dir: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dinoscope</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Dinoscope: the user interface is not built</h1>
<p>The serve host is running, but <code>${dir.replace(/[<>&]/g, '')}</code> has no <code>index.html</code>.</p>
<p>Build it with <code>node scripts/build.mjs renderer</code> (or <code>npm run build</code>) and reload this page.</p>
</body></html>
`;

export async function serveStatic(rendererDir: string, pathname: string): Promise<StaticResponse> {
  const root = resolve(rendererDir);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, type: 'text/plain; charset=utf-8', body: 'Bad path.\n' };
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').includes('..'))
    return { status: 400, type: 'text/plain; charset=utf-8', body: 'Bad path.\n' };
  let file = resolve(root, '.' + (decoded.endsWith('/') ? decoded + 'index.html' : decoded));
  const rel = relative(root, file);
  if (rel.startsWith('..') || rel.startsWith(sep)) return { status: 400, type: 'text/plain; charset=utf-8', body: 'Bad path.\n' };
  if (!extname(file)) file = join(root, 'index.html');
  try {
    if (!(await stat(file)).isFile()) file = join(root, 'index.html');
    return { status: 200, type: mimeType(extname(file)), body: await readFile(file) };
  } catch {
    if (file === join(root, 'index.html')) return { status: 503, type: 'text/html; charset=utf-8', body: missingPage(root) };
    return { status: 404, type: 'text/plain; charset=utf-8', body: 'Not found.\n' };
  }
}

export function contentSecurityPolicy(hostHeader: string): string {
  return [
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    `connect-src 'self' ws://${hostHeader}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
