// The per-image lock of sharded extraction on real files and real processes: a live holder in another
// process keeps it (the caller is told who), a holder whose process exited loses it at once, a lock on
// another host is taken over only once it is untouched for staleMs, the holder's heartbeat keeps its lock
// fresh, and a release never removes a lock someone else holds.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLocked, tryImageLock, type ImageLock } from './image-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-image-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const holderText = (pid: number, host = hostname()): string => JSON.stringify({ pid, host, time: Date.now(), token: 'abcdef0123456789' });

describe('image lock', () => {
  it('is kept by a live process and taken over once that process has exited', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const file = join(dir, 'a.zarr.lock');
    writeFileSync(file, holderText(child.pid!));
    const first = await tryImageLock(file);
    expect(isLocked(first) && first.by).toMatch(new RegExp(`^process ${child.pid} on `));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const notes: string[] = [];
    const second = await tryImageLock(file, {}, (n) => notes.push(n));
    expect(isLocked(second)).toBe(false);
    expect(notes.join('\n')).toMatch(new RegExp(`its process ${child.pid} has exited`));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await (second as ImageLock).release();
    expect(existsSync(file)).toBe(false);
  });

  it('from another host: kept while touched, taken over when untouched for staleMs', async () => {
    const file = join(dir, 'b.zarr.lock');
    writeFileSync(file, holderText(1, 'another-host'));
    expect(isLocked(await tryImageLock(file, { staleMs: 60_000 }))).toBe(true);
    const old = new Date(Date.now() - 120_000);
    utimesSync(file, old, old);
    const lock = await tryImageLock(file, { staleMs: 60_000 });
    expect(isLocked(lock)).toBe(false);
    await (lock as ImageLock).release();
  });

  it('the holder touches its lock, and a release leaves a lock taken over meanwhile alone', async () => {
    const file = join(dir, 'c.zarr.lock');
    const lock = (await tryImageLock(file, { heartbeatMs: 50 })) as ImageLock;
    const old = new Date(Date.now() - 120_000);
    utimesSync(file, old, old);
    await new Promise((r) => setTimeout(r, 1000));
    expect(Date.now() - statSync(file).mtimeMs).toBeLessThan(60_000);
    writeFileSync(file, holderText(1, 'another-host')); // someone judged it stale and took it
    await lock.release();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ host: 'another-host' });
  });
});
