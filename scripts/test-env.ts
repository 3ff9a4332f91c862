// Vitest setup file (vitest.config.ts): test files share their worker process (isolate: false), so what one
// file sets in process.env (DINOSCOPE_HOME above all: most files point it at their own temporary folder)
// must not reach the next file in that process. The environment as the file found it is put back when the
// file ends: variables it added are removed, ones it changed or removed restored.
import { afterAll } from 'vitest';

const before = { ...process.env };

afterAll(() => {
  for (const key of Object.keys(process.env)) if (!(key in before)) delete process.env[key];
  for (const [key, value] of Object.entries(before)) if (process.env[key] !== value) process.env[key] = value;
});
