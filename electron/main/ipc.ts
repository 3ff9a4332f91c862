// ONE IPC handler for the whole API (ipcChannels.call) and one event channel (ipcChannels.event).
// The checks and the call itself are dispatch.ts (no Electron), tested on their own.
import { ipcMain, type BrowserWindow } from 'electron';
import type { DinoscopeApi, MenuCommand } from '../../core/common/api.js';
import { ipcChannels } from '../../core/common/bridge.js';
import { createDispatcher, forwardEvents, type EventSource } from './dispatch.js';

/** Registers the call handler and forwards the service's `events` to the window; returns the undo. */
export function registerIpc(service: DinoscopeApi, events: EventSource, mainWindow: () => BrowserWindow | null): () => void {
  const dispatch = createDispatcher({ service, trustedWebContentsId: () => mainWindow()?.webContents.id ?? null });
  ipcMain.handle(ipcChannels.call, (event, method: unknown, args: unknown) => {
    const frame = event.senderFrame;
    return dispatch(
      { webContentsId: event.sender.id, frameUrl: frame?.url ?? '', mainFrame: frame !== null && frame.parent === null },
      method,
      args,
    );
  });
  const off = forwardEvents(events, (name, payload) => {
    const win = mainWindow();
    if (win && !win.isDestroyed()) win.webContents.send(ipcChannels.event, name, payload);
  });
  return () => {
    ipcMain.removeHandler(ipcChannels.call);
    off();
  };
}

/** A menu choice, sent to the page as the contract's menuCommand event. */
export function sendMenuCommand(win: BrowserWindow | null, command: MenuCommand): void {
  if (win && !win.isDestroyed()) win.webContents.send(ipcChannels.event, 'menuCommand', { command });
}
