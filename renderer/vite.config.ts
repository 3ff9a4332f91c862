// The renderer build: one Svelte 5 page, loaded by Electron from disk and by the serve host over HTTP,
// so every asset path is relative (base './'). No Node imports here (the renderer layer forbids them):
// paths come from this file's own URL.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/** A file: URL to a file-system path ("/C:/x" → "C:/x" on Windows). */
function pathOf(url: URL): string {
  const p = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:/.test(p) ? p.slice(1) : p;
}

export default defineConfig({
  root: pathOf(new URL('.', import.meta.url)),
  base: './',
  plugins: [svelte()],
  build: {
    outDir: pathOf(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    // OpenSeadragon is one large module, loaded once.
    chunkSizeWarningLimit: 1200,
    // Rolldown's plugin-timing report is noise on a shared, busy machine.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
