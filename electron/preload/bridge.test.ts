// The preload's bridge wired to the main process's dispatcher through an in-process stand-in for
// Electron's IPC (the one thing here that is not ours), over the real AppService.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../core/app/service.js';
import type { DinoscopeBridge } from '../../core/common/bridge.js';
import { ipcChannels } from '../../core/common/bridge.js';
import { isErrorEnvelope } from '../../core/common/errors.js';
import { createDispatcher, forwardEvents } from '../main/dispatch.js';
import { createBridge, type BridgeIpc } from './bridge.js';

type Listener = (event: unknown, ...args: unknown[]) => void;

let dir: string;
let service: AppService;
let bridge: DinoscopeBridge;
const invoked: unknown[][] = [];
const listeners = new Map<string, Set<Listener>>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dinoscope-bridge-'));
  process.env.DINOSCOPE_HOME = path.join(dir, 'home');
  service = new AppService({ host: 'electron', version: '9.9.9', urls: rootAssetUrls, homeDir: dir });
  const dispatch = createDispatcher({ service, trustedWebContentsId: () => 1 });
  // Structured clone on the way in and out, as Electron's IPC does.
  const ipc: BridgeIpc = {
    invoke: async (channel, ...args) => {
      invoked.push([channel, ...args]);
      expect(channel).toBe(ipcChannels.call);
      const [method, callArgs] = structuredClone(args);
      return structuredClone(
        await dispatch({ webContentsId: 1, frameUrl: 'dinoscope://app/index.html', mainFrame: true }, method, callArgs),
      );
    },
    on: (channel, l) => void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel))?.add(l),
    removeListener: (channel, l) => void listeners.get(channel)?.delete(l),
  };
  forwardEvents(service, (name, payload) => {
    for (const l of listeners.get(ipcChannels.event) ?? []) l({}, name, structuredClone(payload));
  });
  bridge = createBridge(ipc, (f) => (f as { path: string }).path);
});

afterAll(async () => {
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('preload bridge', () => {
  it('calls the API and unwraps results', async () => {
    expect(await bridge.call('appInfo')).toMatchObject({ host: 'electron', version: '9.9.9' });
    const summary = await bridge.call('createProject', path.join(dir, 'p'), 'Bridged');
    expect(summary).toMatchObject({ name: 'Bridged', images: [] });
    expect(await bridge.call('currentProject')).toMatchObject({ name: 'Bridged' });
  });

  it('rejects with an envelope that keeps its code', async () => {
    const err: unknown = await bridge.call('openProject', 'not/absolute').then(
      () => null,
      (e: unknown) => e,
    );
    expect(isErrorEnvelope(err)).toBe(true);
    expect(err).toEqual({ name: 'DinoscopeError', code: 'BAD_INPUT', message: expect.stringContaining('absolute') });
    // The envelope survives a structured clone whole (contextBridge copies it like this).
    expect(structuredClone(err)).toEqual(err);
  });

  it('refuses names outside the contract without sending anything', async () => {
    const before = invoked.length;
    const call = bridge.call as unknown as (m: string) => Promise<unknown>;
    await expect(call('deleteEverything')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(call('hasOwnProperty')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(invoked.length).toBe(before);
    const on = bridge.on as unknown as (e: string, l: () => void) => () => void;
    expect(() => on('secretEvent', () => undefined)).toThrow(TypeError);
  });

  it('delivers events to subscribers until they unsubscribe, with one IPC listener', async () => {
    const names: string[] = [];
    const offA = bridge.on('projectChanged', (p) => names.push(`a:${p.name}`));
    const offB = bridge.on('projectChanged', (p) => names.push(`b:${p.name}`));
    const offJobs = bridge.on('jobProgress', () => undefined);
    expect(listeners.get(ipcChannels.event)?.size).toBe(1);
    await bridge.call('createProject', path.join(dir, 'q'), 'Evented');
    expect(names).toEqual(['a:Evented', 'b:Evented']);
    offA();
    await bridge.call('createProject', path.join(dir, 'r'), 'Again');
    expect(names).toEqual(['a:Evented', 'b:Evented', 'b:Again']);
    offB();
    offJobs();
    expect(listeners.get(ipcChannels.event)?.size).toBe(0);
  });

  it('maps dropped files to paths, skipping those without one', () => {
    expect(bridge.pathsForFiles([{ path: '/a/b.svs' }, { path: '' }, { path: '/c.tif' }])).toEqual(['/a/b.svs', '/c.tif']);
  });
});
