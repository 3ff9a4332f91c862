// The development-only allowances, decided without Electron: DevTools and their schemes exist only in a
// development build, and no environment variable brings them back in a packaged app.
import { describe, expect, it } from 'vitest';
import { isDevelopmentBuild, requestAllowed } from './dev-policy.js';

describe('development build policy', () => {
  it('is a development build only when not packaged, whatever the environment says', () => {
    const saved = process.env.DINOSCOPE_DEV;
    try {
      for (const value of ['1', 'true', undefined]) {
        if (value === undefined) delete process.env.DINOSCOPE_DEV;
        else process.env.DINOSCOPE_DEV = value;
        expect(isDevelopmentBuild({ isPackaged: true })).toBe(false);
        expect(isDevelopmentBuild({ isPackaged: false })).toBe(true);
      }
    } finally {
      if (saved === undefined) delete process.env.DINOSCOPE_DEV;
      else process.env.DINOSCOPE_DEV = saved;
    }
  });

  it('lets the app scheme and in-page URLs through in every build', () => {
    for (const isDev of [true, false]) {
      for (const url of [
        'dinoscope://app/index.html',
        'dinoscope://assets/tiles/0123456789abcdef/0/0_0.jpeg',
        'data:image/png;base64,AA',
        'blob:dinoscope://app/3f2a',
      ]) {
        expect(requestAllowed(url, isDev), `${url} (dev ${isDev})`).toBe(true);
      }
    }
  });

  it('lets devtools: and chrome-extension: through only in a development build', () => {
    for (const url of ['devtools://devtools/bundled/inspector.html', 'chrome-extension://abcdef/page.js', 'DEVTOOLS://devtools/x']) {
      expect(requestAllowed(url, true), url).toBe(true);
      expect(requestAllowed(url, false), url).toBe(false);
    }
  });

  it('refuses remote, file and look-alike URLs in every build', () => {
    for (const isDev of [true, false]) {
      for (const url of [
        'https://example.com/a.js',
        'http://127.0.0.1:8484/',
        'file:///etc/passwd',
        'ws://127.0.0.1/',
        'javascript:alert(1)',
        'x-dinoscope://app/',
        ' dinoscope://app/',
        'chrome://settings',
        'devtools-x://y',
      ]) {
        expect(requestAllowed(url, isDev), `${url} (dev ${isDev})`).toBe(false);
      }
    }
  });
});
