// The main window's remembered bounds: read and written as JSON in the user-data folder (atomically),
// and fitted back onto the displays that exist now, so a window saved on an unplugged monitor reopens
// where it can be seen. Electron-free; window.ts wires it to BrowserWindow and screen.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../core/io/atomic.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** Absent: let the OS place the window. */
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const defaultWindowState: WindowState = { width: 1400, height: 900, maximized: false };
/** Smallest usable window; also the minimum BrowserWindow size. */
export const minWindowSize = { width: 800, height: 560 } as const;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parses saved state; anything malformed gives null (the defaults are used). */
export function parseWindowState(json: string): WindowState | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!finite(o.width) || !finite(o.height) || o.width <= 0 || o.height <= 0) return null;
  const state: WindowState = { width: Math.round(o.width), height: Math.round(o.height), maximized: o.maximized === true };
  if (finite(o.x) && finite(o.y)) {
    state.x = Math.round(o.x);
    state.y = Math.round(o.y);
  }
  return state;
}

export async function loadWindowState(file: string): Promise<WindowState | null> {
  try {
    return parseWindowState(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Writes via a temporary file and a rename, so a crash never leaves half a file. */
export async function saveWindowState(file: string, state: WindowState): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n');
}

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Fits saved state onto the current displays' work areas: the size is clamped to the largest work
 * area (and the minimum size), and a position is kept only when the window's title strip (its top
 * 40 px) overlaps some display by at least 80 × 40 px, so it can be grabbed. */
export function fitToDisplays(state: WindowState | null, workAreas: readonly Rect[]): WindowState {
  const s = state ?? defaultWindowState;
  const maxW = Math.max(minWindowSize.width, ...workAreas.map((a) => a.width));
  const maxH = Math.max(minWindowSize.height, ...workAreas.map((a) => a.height));
  const width = Math.min(Math.max(s.width, minWindowSize.width), maxW);
  const height = Math.min(Math.max(s.height, minWindowSize.height), maxH);
  const fitted: WindowState = { width, height, maximized: s.maximized };
  if (s.x !== undefined && s.y !== undefined) {
    const strip: Rect = { x: s.x, y: s.y, width, height: 40 };
    if (workAreas.some((a) => overlap(strip, a) >= 80 * 40)) {
      fitted.x = s.x;
      fitted.y = s.y;
    }
  }
  return fitted;
}
