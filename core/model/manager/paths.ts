// Where models live: <project>/models/ and the user's models folder, $DINOSCOPE_HOME/models when set
// (tests use a temp folder) or ~/.local/share/dinoscope/models.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function userModelsDir(): string {
  const home = process.env.DINOSCOPE_HOME;
  return home ? join(home, 'models') : join(homedir(), '.local', 'share', 'dinoscope', 'models');
}

export function projectModelsDir(projectDir: string): string {
  return join(projectDir, 'models');
}

/** A folder-safe id from a name: lowercase letters, digits and dashes. */
export function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return s || 'model';
}
