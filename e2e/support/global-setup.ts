// Vitest global setup for the browser e2e run: builds what the tests drive — the CLI (it hosts `serve`) and
// the renderer — once from the current sources, before any file starts, instead of once per file.
import { buildCliAndRenderer } from './build.js';

export default function setup(): void {
  buildCliAndRenderer();
}
