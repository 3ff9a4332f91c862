// Chooses the transport once, at the entry point: the preload bridge when Electron defined it, else
// HTTP/WebSocket to the page's own origin (the serve host).
import { bridgeGlobal, type DinoscopeBridge } from '../../../core/common/bridge.js';
import { createBridgeApi } from './bridge.js';
import type { ApiClient } from './client.js';
import { createHttpApi } from './http.js';

export function selectApi(win: Window): ApiClient {
  const bridge = (win as unknown as Record<string, DinoscopeBridge | undefined>)[bridgeGlobal];
  if (bridge && typeof bridge.call === 'function') return createBridgeApi(bridge);
  return createHttpApi(new URL('/', win.location.href));
}
