// What a development build may do that a packaged app never does: open DevTools, and let DevTools load
// its own pages (devtools:, chrome-extension:). Pure decisions, so they are tested without Electron.
// A packaged app decides by app.isPackaged alone: no environment variable turns DevTools back on there
// (anyone who can set one for the user's session would otherwise get a console inside the app's
// privileged origin).

/** Whether this run is a development build: started from the source tree (`npm start`), not packaged. */
export function isDevelopmentBuild(app: { isPackaged: boolean }): boolean {
  return !app.isPackaged;
}

/** Schemes every page of the app may load from: our own, and in-page data/blob URLs. */
const appSchemes = /^(?:dinoscope|data|blob):/i;
/** DevTools' own front-end and its extensions: development builds only. */
const devToolsSchemes = /^(?:devtools|chrome-extension):/i;

/** Whether the session lets a request for `url` through (everything else, remote URLs and file: above
 * all, is cancelled). */
export function requestAllowed(url: string, isDev: boolean): boolean {
  return appSchemes.test(url) || (isDev && devToolsSchemes.test(url));
}
