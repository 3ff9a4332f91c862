// Serve-host access control: two random tokens, the editor's and the viewer's (cookie, Bearer header or
// ?token=), compared in constant time; Host headers limited to the bound address (DNS rebinding); Origin
// headers limited to our own origin.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Role } from '../common/api.js';

export const COOKIE_NAME = 'dinoscope_token';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time equality (hashing first makes the lengths equal). */
export function tokenMatches(candidate: string | null | undefined, token: string): boolean {
  if (typeof candidate !== 'string' || candidate.length === 0) return false;
  const a = createHash('sha256').update(candidate).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The token a request presents, by cookie, `Authorization: Bearer` or `?token=`. */
export function presentedTokens(req: IncomingMessage, url: URL): string[] {
  const out: string[] = [];
  const cookie = cookieValue(req.headers.cookie, COOKIE_NAME);
  if (cookie) out.push(cookie);
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) out.push(auth.replace(/^Bearer\s+/i, '').trim());
  const q = url.searchParams.get('token');
  if (q) out.push(q);
  return out;
}

/** The two tokens of a host. */
export interface HostTokens {
  editor: string;
  viewer: string;
}

/** The role a token gives, or null for neither (compares with both, whichever matches). */
export function roleOfToken(candidate: string | null | undefined, tokens: HostTokens): Role | null {
  const editor = tokenMatches(candidate, tokens.editor);
  const viewer = tokenMatches(candidate, tokens.viewer);
  return editor ? 'editor' : viewer ? 'viewer' : null;
}

/** The role of a request: the editor's when any token it presents is the editor's, else the viewer's
 * when one is the viewer's, else null (refused). Every candidate is compared with both tokens, so timing
 * does not depend on which one matched. */
export function requestRole(req: IncomingMessage, url: URL, tokens: HostTokens): Role | null {
  const roles = presentedTokens(req, url).map((t) => roleOfToken(t, tokens));
  return roles.includes('editor') ? 'editor' : roles.includes('viewer') ? 'viewer' : null;
}

export function sessionCookie(token: string): string {
  return `${COOKIE_NAME}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** Host headers we answer: the bound host and the loopback names on our port; on a non-loopback bind,
 * any IP literal too (a rebinding attack needs a DNS name, which stays refused). */
export function hostAllowed(hostHeader: string | undefined, boundHost: string, port: number): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)$/.exec(hostHeader.trim());
  if (!m || Number(m[2]) !== port) return false;
  const name = m[1].toLowerCase();
  const bound = isIP(boundHost) === 6 ? `[${boundHost.toLowerCase()}]` : boundHost.toLowerCase();
  if (name === bound || LOOPBACK_NAMES.includes(name)) return true;
  const wildcard = boundHost === '0.0.0.0' || boundHost === '::';
  return wildcard && isIP(name.replace(/^\[|\]$/g, '')) !== 0;
}

/** No Origin header (same-origin navigation, curl), or exactly http://<the Host header>. */
export function originAllowed(originHeader: string | undefined, hostHeader: string | undefined): boolean {
  if (originHeader === undefined) return true;
  return hostHeader !== undefined && originHeader === `http://${hostHeader}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
