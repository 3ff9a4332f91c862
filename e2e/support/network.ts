// Records the page's tile and overlay responses (URL, status, body) and tells when requests have settled.
import type { Page, Response } from 'playwright-core';

export interface TileHit {
  kind: 'tile' | 'overlay';
  level: number;
  x: number;
  y: number;
  status: number;
  body: Buffer | null;
}

const tileRe = /\/(tiles|overlays)\/(?:[^/]+\/)+?(\d+)\/(\d+)_(\d+)\.\w+$/;

export class TileLog {
  readonly hits: TileHit[] = [];
  readonly failedRequests: string[] = [];
  private pending = 0;
  private lastChange = Date.now();

  constructor(page: Page) {
    page.on('request', (req) => {
      if (tileRe.test(new URL(req.url()).pathname)) this.touch(+1);
    });
    page.on('requestfailed', (req) => {
      if (!tileRe.test(new URL(req.url()).pathname)) return;
      // OpenSeadragon cancels tiles that scrolled away; those are not failures of the host.
      const why = req.failure()?.errorText ?? '';
      if (!/ERR_ABORTED/.test(why)) this.failedRequests.push(`${req.url()} ${why}`);
      this.touch(-1);
    });
    page.on('response', (res) => void this.record(res));
  }

  private touch(d: number): void {
    this.pending += d;
    this.lastChange = Date.now();
  }

  private async record(res: Response): Promise<void> {
    const m = tileRe.exec(new URL(res.url()).pathname);
    if (!m) return;
    let body: Buffer | null = null;
    try {
      body = await res.body();
    } catch {
      body = null;
    }
    this.hits.push({ kind: m[1] === 'tiles' ? 'tile' : 'overlay', level: +m[2], x: +m[3], y: +m[4], status: res.status(), body });
    this.touch(-1);
  }

  /** Resolves once no tile request has been open for `quietMs`. */
  async settle(quietMs = 800, timeoutMs = 60_000): Promise<void> {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      if (this.pending <= 0 && Date.now() - this.lastChange >= quietMs) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`tile requests did not settle in ${timeoutMs} ms (${this.pending} pending)`);
  }

  tiles(kind: TileHit['kind'] = 'tile'): TileHit[] {
    return this.hits.filter((h) => h.kind === kind);
  }
}
