import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWindowState, fitToDisplays, loadWindowState, minWindowSize, parseWindowState, saveWindowState } from './window-state.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dinoscope-winstate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const laptop = { x: 0, y: 0, width: 1920, height: 1050 };
const right = { x: 1920, y: 0, width: 2560, height: 1410 };

describe('window state', () => {
  it('round-trips through an atomic write', async () => {
    const file = path.join(dir, 'nested', 'window-state.json');
    await saveWindowState(file, { x: 10, y: 20, width: 1000, height: 700, maximized: true });
    expect(await loadWindowState(file)).toEqual({ x: 10, y: 20, width: 1000, height: 700, maximized: true });
    expect((await readdir(path.dirname(file))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ width: 1000 });
  });

  it('treats missing or malformed files as no state', async () => {
    expect(await loadWindowState(path.join(dir, 'absent.json'))).toBeNull();
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"width": "wide"');
    expect(await loadWindowState(bad)).toBeNull();
    expect(parseWindowState('{"width": -5, "height": 10}')).toBeNull();
    expect(parseWindowState('{"width": 900, "height": 600, "x": "a"}')).toEqual({ width: 900, height: 600, maximized: false });
  });

  it('keeps a position that is on a display and drops one that is not', () => {
    expect(fitToDisplays({ x: 2000, y: 100, width: 1200, height: 800, maximized: false }, [laptop, right])).toEqual({
      x: 2000,
      y: 100,
      width: 1200,
      height: 800,
      maximized: false,
    });
    // The right monitor was unplugged: the OS places the window.
    expect(fitToDisplays({ x: 2000, y: 100, width: 1200, height: 800, maximized: false }, [laptop])).toEqual({
      width: 1200,
      height: 800,
      maximized: false,
    });
    // Title bar above the top of every display.
    expect(fitToDisplays({ x: 100, y: -600, width: 1200, height: 800, maximized: false }, [laptop]).x).toBeUndefined();
  });

  it('clamps the size between the minimum and the largest display', () => {
    expect(fitToDisplays({ width: 9000, height: 9000, maximized: false }, [laptop])).toEqual({
      width: 1920,
      height: 1050,
      maximized: false,
    });
    expect(fitToDisplays({ width: 10, height: 10, maximized: false }, [laptop])).toEqual({ ...minWindowSize, maximized: false });
    expect(fitToDisplays(null, [laptop])).toEqual(defaultWindowState);
  });
});
