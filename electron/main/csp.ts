// The Content-Security-Policy and companion headers every dinoscope:// response carries.
// The page lives at dinoscope://app; tiles, thumbnails and overlays come from dinoscope://assets, a
// second origin of our own scheme, so img-src and connect-src name it beside 'self'.

/** The scheme the app is served from (registered privileged before `ready`, see protocol.ts). */
export const appScheme = 'dinoscope';
/** Origin of the renderer's files (dist/renderer). */
export const appOrigin = `${appScheme}://app`;
/** Origin of tiles, thumbnails and overlays (core/tiles/router.ts). */
export const assetsOrigin = `${appScheme}://assets`;

const directives: readonly string[] = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  `img-src 'self' data: blob: ${assetsOrigin}`,
  `connect-src 'self' ${assetsOrigin}`,
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

export const contentSecurityPolicy: string = directives.join('; ');

/** Headers added to every response of the scheme, whatever its status. */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}
