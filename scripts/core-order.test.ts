// core's folder order is enforced by `npm run lint`: a back-edge (a lower folder importing a higher one)
// fails eslint with a message naming both folders, through the repository's own eslint.config.js.
import { readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { CORE_ORDER } from './core-order.mjs';

const root = path.resolve(import.meta.dirname, '..');
const probes: string[] = [];

afterAll(async () => {
  for (const p of probes) await rm(p, { force: true });
});

/** Lints `source` as a new file core/<folder>/<name> with the repository's config; the core-order messages. */
async function orderMessages(folder: string, source: string, name = `order-probe-${process.pid}.ts`): Promise<string[]> {
  const file = path.join(root, 'core', folder, name);
  probes.push(file);
  await writeFile(file, source);
  // The core-order rule reads import paths only: the probe is parsed without TypeScript's type information
  // (building core's program for it cost ~8 s of CPU), so the one rule that needs types is off.
  const eslint = new ESLint({
    cwd: root,
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  });
  const [result] = await eslint.lintFiles([file]);
  return result.messages.filter((m) => m.ruleId === 'dinoscope/core-order').map((m) => m.message);
}

describe("core's folder order", () => {
  it('fails lint on a back-edge: static, re-export, dynamic and type imports of a higher folder', async () => {
    const messages = await orderMessages(
      'data',
      [
        "import { AppService } from '../app/service.js';",
        "export { clusterColor } from '../features/regions.js';",
        "export const later = () => import('../tiles/dzi.js');",
        "export type Later = import('../project/project.js').Project;",
        'export type S = AppService;',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([
      "core/data may not import core/app: app sits above data in core's order (core/README.md). Move the code down to the lowest folder that needs it.",
      "core/data may not import core/features: features sits above data in core's order (core/README.md). Move the code down to the lowest folder that needs it.",
      "core/data may not import core/tiles: tiles sits above data in core's order (core/README.md). Move the code down to the lowest folder that needs it.",
      "core/data may not import core/project: project sits above data in core's order (core/README.md). Move the code down to the lowest folder that needs it.",
    ]);
  });

  it('passes imports of lower folders and of the same folder', async () => {
    const messages = await orderMessages(
      'tiles',
      [
        "import { tissueScore } from '../data/tissue-mask.js';",
        "import { clusterColor } from '../features/regions.js';",
        "import { tileRect } from './dzi.js';",
        'export const used = [tissueScore, clusterColor, tileRect];',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  });

  it('leaves tests free to drive a lower folder through the app service', async () => {
    expect(
      await orderMessages(
        'data',
        "import { AppService } from '../app/service.js';\nexport type S = AppService;\n",
        `order-probe-${process.pid}.test.ts`,
      ),
    ).toEqual([]);
  });

  it('core/README.md states the order the rule enforces, and every core folder is in it', () => {
    const readme = readFileSync(path.join(root, 'core', 'README.md'), 'utf8');
    const stated = [...readme.matchAll(/^\d+\. `([a-z-]+)\/`/gm)].map((m) => m[1]);
    expect(stated).toEqual(CORE_ORDER);
    const folders = listFolders(path.join(root, 'core'));
    expect([...folders].sort()).toEqual([...CORE_ORDER].sort());
  });
});

function listFolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}
