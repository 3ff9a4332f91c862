// The recent-projects list, kept in the user's config folder: $DINOSCOPE_HOME when set (tests use a temp
// folder), else ~/.config/dinoscope. A missing or unreadable list is an empty list, never an error.
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RecentProject } from '../common/api.js';
import { writeFileAtomic } from '../io/atomic.js';

const MAX_RECENT = 20;

export function configDir(): string {
  return process.env.DINOSCOPE_HOME || join(homedir(), '.config', 'dinoscope');
}

function recentFile(): string {
  return join(configDir(), 'recent.json');
}

export async function readRecent(): Promise<RecentProject[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(recentFile(), 'utf8'));
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (r): r is RecentProject =>
        typeof r === 'object' && r !== null && typeof r.path === 'string' && typeof r.name === 'string' && typeof r.openedAt === 'string',
    );
  } catch {
    return [];
  }
}

/** Puts the project first in the list (most recent first, no duplicates). */
export async function touchRecent(path: string, name: string): Promise<RecentProject[]> {
  const list = (await readRecent()).filter((r) => r.path !== path);
  list.unshift({ path, name, openedAt: new Date().toISOString() });
  const kept = list.slice(0, MAX_RECENT);
  await mkdir(configDir(), { recursive: true });
  await writeFileAtomic(recentFile(), JSON.stringify(kept, null, 2) + '\n');
  return kept;
}
