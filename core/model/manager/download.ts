// HTTP(S) download into `<dest>.part` with resume (Range + If-Range), redirects, progress, cancellation and
// sha256 verification; the finished file is renamed onto `dest`. A `<dest>.part.json` beside the partial
// file remembers the URL and validator (ETag / Last-Modified) so a resume never splices two versions.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DinoscopeError } from '../../common/errors.js';
import { networkError } from './network-error.js';
import { writeFileAtomic } from '../../io/atomic.js';

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected sha256 (hex). Without it, a sha256 the server states (Hugging Face's X-Linked-Etag) is used. */
  sha256?: string;
  /** Extra request headers (e.g. Authorization for gated models); dropped when a redirect leaves the host. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Bytes so far and the total (null while unknown); called at most every `progressMs`. */
  onProgress?(done: number, total: number | null): void;
  progressMs?: number;
  /** Idle socket timeout (default 60 s). */
  timeoutMs?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Whether an earlier partial download was continued. */
  resumed: boolean;
  /** The checksum that was verified, or null when none was known. */
  verified: string | null;
}

interface PartMeta {
  url: string;
  validator: string | null;
  total: number | null;
  linkedSha256: string | null;
}

const MAX_REDIRECTS = 10;
const SHA256_RE = /^[0-9a-f]{64}$/;

const partPath = (dest: string): string => `${dest}.part`;
const metaPath = (dest: string): string => `${dest}.part.json`;

async function readMeta(dest: string): Promise<PartMeta | null> {
  try {
    return JSON.parse(await readFile(metaPath(dest), 'utf8')) as PartMeta;
  } catch {
    return null;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function cancelled(url: string): DinoscopeError {
  return new DinoscopeError('CANCELLED', `Download of ${url} cancelled (the partial file is kept for resuming).`);
}

/** One GET, following redirects; resolves with the final response (status 2xx or an error status). */
function get(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  hops = 0,
  linked: string | null = null,
): Promise<{ res: IncomingMessage; url: string; linkedSha256: string | null }> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new DinoscopeError('BAD_INPUT', `"${url}" is not a valid URL.`));
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      reject(new DinoscopeError('BAD_INPUT', `${url}: only http and https downloads are supported.`));
      return;
    }
    if (signal?.aborted) {
      reject(cancelled(url));
      return;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { headers: { 'user-agent': 'dinoscope', ...headers }, signal });
    req.setTimeout(timeoutMs, () =>
      req.destroy(
        new DinoscopeError(
          'INTERNAL',
          `${url}: no data for ${Math.round(timeoutMs / 1000)} s; the partial download is kept, try again to resume.`,
        ),
      ),
    );
    req.on('error', (err) => reject(signal?.aborted ? cancelled(url) : err instanceof DinoscopeError ? err : networkError(url, err)));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      // Hugging Face states an LFS file's sha256 as X-Linked-Etag on the redirect.
      const linkedTag = String(res.headers['x-linked-etag'] ?? '')
        .replace(/"/g, '')
        .toLowerCase();
      const sha = SHA256_RE.test(linkedTag) ? linkedTag : linked;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hops >= MAX_REDIRECTS) {
          reject(new DinoscopeError('INTERNAL', `${url}: more than ${MAX_REDIRECTS} redirects.`));
          return;
        }
        const next = new URL(res.headers.location, u);
        const h = { ...headers };
        if (next.host !== u.host) delete h.authorization; // never send a token to another host
        get(next.toString(), h, signal, timeoutMs, hops + 1, sha).then(resolve, reject);
        return;
      }
      resolve({ res, url, linkedSha256: sha });
    });
    req.end();
  });
}

async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Downloads `url` to `dest`, resuming a previous partial download of the same URL. */
export async function download(opts: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, signal } = opts;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const progressMs = opts.progressMs ?? 200;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  const part = partPath(dest);
  let meta = await readMeta(dest);
  let have = await sizeOf(part);
  if (!meta || meta.url !== url) {
    have = 0; // a partial file of another URL (or of unknown origin) is not resumable
    meta = null;
  }
  const resumed = have > 0;
  const reqHeaders = { ...headers };
  if (have > 0) {
    reqHeaders.range = `bytes=${have}-`;
    if (meta?.validator) reqHeaders['if-range'] = meta.validator;
  }
  const { res, linkedSha256 } = await get(url, reqHeaders, signal, timeoutMs);
  const status = res.statusCode ?? 0;
  if (status === 416 && have > 0 && meta?.total === have) {
    res.resume(); // the partial file is already complete
  } else if (status !== 200 && status !== 206) {
    res.resume();
    const hint =
      status === 401 || status === 403
        ? ' (a gated model: accept its licence on the website and supply an access token)'
        : status === 404
          ? ' (no such file)'
          : '';
    throw new DinoscopeError(
      status === 404 ? 'NOT_FOUND' : status === 401 || status === 403 ? 'FORBIDDEN' : 'INTERNAL',
      `${url}: the server answered HTTP ${status}${hint}.`,
    );
  }
  let start = 0;
  let total: number | null = null;
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== have) {
      res.resume();
      await rm(part, { force: true });
      await rm(metaPath(dest), { force: true });
      throw new DinoscopeError(
        'CORRUPT',
        `${url}: the server resumed at the wrong offset (${String(res.headers['content-range'])}, had ${have} bytes); the partial file was removed, try again.`,
      );
    }
    start = have;
    total = m[3] === '*' ? null : Number(m[3]);
  } else if (status === 200) {
    const len = Number(res.headers['content-length']);
    total = Number.isFinite(len) && len >= 0 ? len : null;
  } else total = have;
  const validator = (res.headers.etag as string | undefined) ?? (res.headers['last-modified'] as string | undefined) ?? null;
  const newMeta: PartMeta = {
    url,
    validator: status === 206 ? (meta?.validator ?? validator) : validator,
    total,
    linkedSha256: linkedSha256 ?? meta?.linkedSha256 ?? null,
  };
  await writeFileAtomic(metaPath(dest), JSON.stringify(newMeta));

  let done = start;
  if (status === 200 || status === 206) {
    const fh = await open(part, status === 206 ? 'a' : 'w');
    let last = 0;
    try {
      for await (const chunk of res) {
        const buf = chunk as Buffer;
        let off = 0;
        while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        done += buf.length;
        const now = Date.now();
        if (opts.onProgress && now - last >= progressMs) {
          last = now;
          opts.onProgress(done, total);
        }
      }
    } catch (err) {
      if (signal?.aborted) throw cancelled(url);
      throw err instanceof DinoscopeError
        ? err
        : new DinoscopeError(
            'INTERNAL',
            `${url}: the transfer broke off after ${done} bytes (${(err as Error).message}); try again to resume.`,
          );
    } finally {
      await fh.close();
    }
    if (signal?.aborted) throw cancelled(url);
    if (!res.complete || (total !== null && done !== total)) {
      throw new DinoscopeError('INTERNAL', `${url}: the transfer broke off after ${done} of ${total ?? '?'} bytes; try again to resume.`);
    }
  }
  opts.onProgress?.(done, total ?? done);
  const expected = (opts.sha256 ?? newMeta.linkedSha256)?.toLowerCase() ?? null;
  const sha256 = await sha256File(part, signal);
  if (expected && sha256 !== expected) {
    await rm(part, { force: true });
    await rm(metaPath(dest), { force: true });
    throw new DinoscopeError(
      'CORRUPT',
      `${url}: checksum mismatch — expected sha256 ${expected}, got ${sha256}; the download was deleted.`,
    );
  }
  await rename(part, dest);
  await rm(metaPath(dest), { force: true });
  return { path: dest, bytes: done, sha256, resumed, verified: expected };
}
