// The sandboxed preload (bundled to dist/electron/preload.cjs; a sandboxed preload may require only
// 'electron', so scripts/build.mjs inlines core/common). It exposes exactly one global,
// window.dinoscope (DinoscopeBridge); ipcRenderer itself never reaches the page.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { bridgeGlobal } from '../../core/common/bridge.js';
import { createBridge, type BridgeIpc } from './bridge.js';

const ipc: BridgeIpc = {
  invoke: (channel, ...args) => ipcRenderer.invoke(channel, ...args),
  on: (channel, listener) => void ipcRenderer.on(channel, listener),
  removeListener: (channel, listener) => void ipcRenderer.removeListener(channel, listener),
};

const bridge = createBridge(ipc, (file) => webUtils.getPathForFile(file as File));
contextBridge.exposeInMainWorld(bridgeGlobal, bridge);
