// project.json with several writer processes (lock.ts + Project.update): real child processes
// (hammer.child.ts under tsx) race different updates of one project and none is lost, and so do two
// `dinoscope import` runs of the built CLI into one project; the project lock
// takes over a lock whose holder died, waits for a live holder, and gives up on one that never lets go
// with an error naming the lock file and the holder.
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DinoscopeError } from '../common/errors.js';
import { acquireLock, lockPathFor, releaseLock, withFileLock } from './lock.js';
import { PROJECT_FILE, Project } from './project.js';
import type { ProjectFile } from './schema.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function child(args: string[]): ChildProcess {
  return fork(join(import.meta.dirname, 'hammer.child.ts'), args, {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
const said = (c: ChildProcess, what: string): Promise<void> =>
  new Promise((res, rej) => {
    c.on('message', (m) => m === what && res());
    c.on('exit', (code) => code !== 0 && rej(new Error(`child exited with ${code} before '${what}'`)));
  });

/** Forks the children, starts them together once all are loaded, resolves when all are done. */
async function race(argsList: string[][]): Promise<void> {
  const kids = argsList.map(child);
  await Promise.all(kids.map((k) => said(k, 'ready')));
  const done = Promise.all(kids.map((k) => said(k, 'done')));
  for (const k of kids) k.send('go');
  await done;
}

const N = 40;
const names = (xs: readonly unknown[], key: 'name' | 'id'): string[] => xs.map((x) => (x as Record<string, string>)[key]).sort();
const expected = (tag: string): string[] => Array.from({ length: N }, (_, i) => `${tag}-${i}`).sort();

describe('project.json with several writer processes', () => {
  it(`keeps every update of 3 processes racing ${N} run, feature-set and image upserts each`, async () => {
    const p = join(dir, 'race');
    const app = await Project.create(p);
    await race([
      [p, 'run', String(N), 'update', 'run'],
      [p, 'feature', String(N), 'update', 'feat'],
      [p, 'image', String(N), 'update', 'img'],
    ]);
    const doc = JSON.parse(await readFile(join(p, PROJECT_FILE), 'utf8')) as ProjectFile;
    expect(names(doc.runs, 'name')).toEqual(expected('run'));
    expect(names(doc.features, 'id')).toEqual(expected('feat'));
    expect(names(doc.images, 'id')).toEqual(expected('img'));
    expect(existsSync(lockPathFor(join(p, PROJECT_FILE)))).toBe(false);
    // The app's Project opened before the race writes after it: its update keeps the children's records.
    await app.update((x) => x.upsertRun({ name: 'app' }));
    expect(app.runs()).toHaveLength(N + 1);
    expect(app.images()).toHaveLength(N);
    expect((await Project.open(p)).featureSets()).toHaveLength(N);
  }, 60_000);

  it('keeps every image of two `dinoscope import` processes creating one project and importing into it at once', async () => {
    const p = join(dir, 'imports');
    const folders = ['a', 'b'].map((f) => join(dir, 'img', f));
    const K = 24;
    for (const [f, folder] of folders.entries()) {
      await mkdir(folder, { recursive: true });
      for (let i = 0; i < K; i++)
        await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 10 * i, g: 100 * f, b: 7 } } })
          .png()
          .toFile(join(folder, `${f}-${i}.png`));
    }
    const env = { ...process.env, DINOSCOPE_HOME: join(dir, 'home') };
    const codes = await Promise.all(
      folders.map(
        (folder) =>
          new Promise<{ code: number | null; stderr: string }>((res) => {
            const c = spawn(process.execPath, [join(root, 'bin/dinoscope.js'), 'import', p, folder], {
              env,
              stdio: ['ignore', 'ignore', 'pipe'],
            });
            let stderr = '';
            c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            c.on('close', (code) => res({ code, stderr }));
          }),
      ),
    );
    for (const c of codes) expect(c.code, c.stderr).toBe(0);
    expect(codes.filter((c) => c.stderr.includes('created a new project'))).toHaveLength(1);
    const images = (await Project.open(p)).images();
    expect(images.map((i) => i.name).sort()).toEqual(
      folders.flatMap((_, f) => Array.from({ length: K }, (_, i) => `${f}-${i}.png`)).sort(),
    );
    expect(images.every((i) => i.status === 'ok')).toBe(true);
  }, 90_000);

  it('refuses a change made outside update()', async () => {
    const app = await Project.open(join(dir, 'race'));
    expect(() => app.upsertRun({ name: 'lost' })).toThrow(/outside update\(\)/);
  });

  it('writes nothing when the mutation throws, and releases the lock', async () => {
    const p = await Project.open(join(dir, 'race'));
    const before = await readFile(p.file, 'utf8');
    await expect(p.update((x) => x.remove('no-such-image'))).rejects.toThrow(/no-such-image/);
    expect(await readFile(p.file, 'utf8')).toBe(before);
    expect(existsSync(lockPathFor(p.file))).toBe(false);
  });
});

describe('project lock', () => {
  const file = join(dir, 'locked.json');

  it('takes over a lock whose holder process has exited', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    await writeFile(lockPathFor(file), JSON.stringify({ pid, host: hostname(), time: Date.now(), token: 'dead' }));
    const t0 = Date.now();
    expect(await withFileLock(file, async () => 'mine', { waitMs: 2000 })).toBe('mine');
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(existsSync(lockPathFor(file))).toBe(false);
  });

  it('takes over a lock naming this process that this process does not hold (an earlier process with its pid)', async () => {
    await writeFile(lockPathFor(file), JSON.stringify({ pid: process.pid, host: hostname(), time: Date.now(), token: 'earlier' }));
    expect(await withFileLock(file, async () => 'mine', { waitMs: 1000 })).toBe('mine');
  });

  it('takes over a lock older than staleMs, even with a live pid', async () => {
    await writeFile(lockPathFor(file), JSON.stringify({ pid: process.ppid, host: hostname(), time: Date.now() - 60_000, token: 'old' }));
    expect(await withFileLock(file, async () => 'mine', { waitMs: 2000, staleMs: 30_000 })).toBe('mine');
  });

  it('waits while another live process holds the lock, then proceeds', async () => {
    const p = join(dir, 'held');
    await Project.create(p);
    const holder = child([p, 'hold', '800']);
    await said(holder, 'ready');
    const locked = said(holder, 'locked');
    holder.send('go');
    await locked;
    const released = said(holder, 'released');
    let releasedAt = 0;
    void released.then(() => (releasedAt = Date.now()));
    const t0 = Date.now();
    const project = await Project.open(p);
    await project.update((x) => x.upsertRun({ name: 'after-wait' }));
    const waited = Date.now() - t0;
    await released;
    expect(waited).toBeGreaterThan(500); // the holder kept it 800 ms after saying 'locked'
    expect(releasedAt).toBeGreaterThan(0);
    expect((await Project.open(p)).runs()).toEqual([{ name: 'after-wait' }]);
  }, 30_000);

  it('gives up on a live holder after waitMs, naming the lock file and the holder', async () => {
    const held = await acquireLock(file);
    const other = { pid: process.ppid, host: hostname(), time: Date.now(), token: 'x' };
    // A lock of another live process (the test runner's parent) on this host.
    await releaseLock(file, held);
    await writeFile(lockPathFor(file), JSON.stringify(other));
    const err = await withFileLock(file, async () => 'never', { waitMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DinoscopeError);
    expect((err as Error).message).toContain(lockPathFor(file));
    expect((err as Error).message).toContain(`process ${process.ppid} on ${hostname()}`);
    expect(existsSync(lockPathFor(file))).toBe(true); // not ours to remove
    rmSync(lockPathFor(file));
  });

  it('queues callers of one process on the same file', async () => {
    const order: string[] = [];
    const slow = withFileLock(file, async () => {
      order.push('a+');
      await new Promise((r) => setTimeout(r, 50));
      order.push('a-');
    });
    const fast = withFileLock(file, async () => void order.push('b'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['a+', 'a-', 'b']);
  });
});
