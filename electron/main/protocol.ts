// Registers the dinoscope:// scheme. The request → response logic is protocol-handler.ts (no Electron).
import { protocol } from 'electron';
import { appScheme } from './csp.js';
import type { ProtocolHandler } from './protocol-handler.js';

/** Must run before app `ready`: a standard scheme (relative URLs and origins work as with https), secure
 * (a secure context), with fetch and CORS (the page at dinoscope://app reads dinoscope://assets). */
export function registerSchemePrivileges(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: appScheme,
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true, codeCache: true },
    },
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
