// Registers the dinoscope:// scheme. The request → response logic is protocol-handler.ts (no Electron).
import { protocol } from 'electron';
import { appScheme } from './csp.js';
import type { ProtocolHandler } from './protocol-handler.js';

/** Must run before app `ready`: a standard, secure scheme with fetch, CORS and streaming (video-free,
 * but large tiles stream). Standard makes relative URLs and origins work like https. */
export function registerSchemePrivileges(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true, codeCache: true } },
  ]);
}

/** Serves the scheme on the default session through `handler`. */
export function serveScheme(handler: ProtocolHandler): void {
  protocol.handle(appScheme, async (request) => {
    const res = await handler(request.url, request.method);
    const body = res.body === null || typeof res.body === 'string' ? res.body : new Uint8Array(res.body);
    return new Response(body, { status: res.status, headers: res.headers });
  });
}
