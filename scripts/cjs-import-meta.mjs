// esbuild options for a CommonJS bundle (Electron's main process). CommonJS has no import.meta: core code
// that finds its worker scripts by import.meta.url (core/io/fork.ts) gets the bundle file's own URL.
export const cjsImportMeta = {
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
};
