// The IPC call path (everything ipc.ts does but the Electron calls) against the real AppService.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ProjectSummary } from '../../core/common/api.js';
import { AppService, rootAssetUrls } from '../../core/app/service.js';
import { createDispatcher, forwardEvents, isAppUrl, type CallSender, type Dispatcher } from './dispatch.js';

let dir: string;
let service: AppService;
let dispatch: Dispatcher;
const WINDOW = 7;
const trusted: CallSender = { webContentsId: WINDOW, frameUrl: 'dinoscope://app/index.html', mainFrame: true };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dinoscope-dispatch-'));
  process.env.DINOSCOPE_HOME = path.join(dir, 'home');
  service = new AppService({
    host: 'electron',
    version: '1.2.3',
    urls: rootAssetUrls,
    homeDir: dir,
    showOpenDialog: async (kind) => [`/picked/${kind}`],
  });
  dispatch = createDispatcher({ service, trustedWebContentsId: () => WINDOW });
});

afterAll(async () => {
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('dispatch', () => {
  it('calls the service for the trusted window and passes arguments through', async () => {
    expect(await dispatch(trusted, 'appInfo', [])).toEqual({
      ok: expect.objectContaining({ version: '1.2.3', host: 'electron', nativeDialogs: true }),
    });
    expect(await dispatch(trusted, 'currentProject', [])).toEqual({ ok: null });
    const created = await dispatch(trusted, 'createProject', [path.join(dir, 'p1'), 'My slides']);
    expect('ok' in created).toBe(true);
    const summary = (created as { ok: ProjectSummary }).ok;
    expect(summary).toMatchObject({ path: path.join(dir, 'p1'), name: 'My slides', images: [] });
    expect(await dispatch(trusted, 'showOpenDialog', ['project'])).toEqual({ ok: ['/picked/project'] });
  });

  it('rejects unknown methods, including prototype names, as the serve host does (NOT_FOUND)', async () => {
    for (const m of ['deleteEverything', 'constructor', '__proto__', 'toString', 'tile', 'close', 42, null]) {
      const r = await dispatch(trusted, m, []);
      expect(r).toEqual({
        error: expect.objectContaining({ code: 'NOT_FOUND', message: expect.stringContaining('is not an API method') }),
      });
    }
  });

  it('rejects arguments that are not an array', async () => {
    expect(await dispatch(trusted, 'openProject', { path: dir })).toEqual({ error: expect.objectContaining({ code: 'BAD_INPUT' }) });
  });

  it('rejects foreign senders', async () => {
    const foreign: CallSender[] = [
      { ...trusted, webContentsId: WINDOW + 1 },
      { ...trusted, mainFrame: false },
      { ...trusted, frameUrl: 'https://example.com/' },
      { ...trusted, frameUrl: 'file:///etc/passwd' },
      { ...trusted, frameUrl: 'dinoscope://assets/tiles/x' },
      { ...trusted, frameUrl: 'dinoscope://app.evil.com/' },
      { ...trusted, frameUrl: 'dinoscope://application/' },
      { ...trusted, frameUrl: '' },
    ];
    for (const s of foreign) {
      const r = await dispatch(s, 'appInfo', []);
      expect(r).toEqual({ error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    }
    const noWindow = createDispatcher({ service, trustedWebContentsId: () => null });
    expect(await noWindow(trusted, 'appInfo', [])).toEqual({ error: expect.objectContaining({ code: 'FORBIDDEN' }) });
  });

  it('turns service errors into envelopes, never throws', async () => {
    const relative = await dispatch(trusted, 'createProject', ['relative/path']);
    expect(relative).toEqual({ error: { name: 'DinoscopeError', code: 'BAD_INPUT', message: expect.stringContaining('absolute') } });
    const missing = await dispatch(trusted, 'openProject', [path.join(dir, 'does-not-exist')]);
    expect('error' in missing).toBe(true);
    expect(await dispatch(trusted, 'cancelJob', ['no-such-job'])).toEqual({ error: expect.objectContaining({ code: 'NOT_FOUND' }) });
    const noImage = await dispatch(trusted, 'tileSource', ['0123456789abcdef']);
    expect('error' in noImage && noImage.error.code).toMatch(/NOT_FOUND|BAD_INPUT/);
    expect(Object.keys((missing as { error: object }).error).sort()).toEqual(['code', 'message', 'name']);
  });

  it('recognises only the app origin', () => {
    expect(isAppUrl('dinoscope://app/index.html')).toBe(true);
    expect(isAppUrl('dinoscope://app/')).toBe(true);
    expect(isAppUrl('dinoscope://app')).toBe(false);
    expect(isAppUrl('dinoscope://app@evil/')).toBe(false);
    expect(isAppUrl('dinoscope://app.evil/')).toBe(false);
  });
});

describe('forwardEvents', () => {
  it('forwards every contract event the service emits, until unsubscribed', async () => {
    const sent: [ApiEvent, unknown][] = [];
    const off = forwardEvents(service, (name, payload) => sent.push([name, payload]));
    await service.createProject(path.join(dir, 'p2'), 'Second');
    expect(sent.some(([name, p]) => name === 'projectChanged' && (p as ProjectSummary).name === 'Second')).toBe(true);
    off();
    const before = sent.length;
    await service.createProject(path.join(dir, 'p3'), 'Third');
    expect(sent.length).toBe(before);
  });
});
