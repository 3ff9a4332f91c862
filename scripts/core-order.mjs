// The order of core's folders, enforced by eslint (eslint.config.js) and explained in core/README.md.
// A file in core/X may import core/Y only when Y comes before X in CORE_ORDER (or Y is X): lower folders
// never depend on higher ones, so each can be read, tested and reused without what sits above it.
// Tests (*.test.ts) are exempt: a test of a lower folder may drive it through the app service above it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** core's folders, bottom first. */
export const CORE_ORDER = [
  'common',
  'io',
  'jobs',
  'graph',
  'hardware',
  'model',
  'data',
  'project',
  'reader-pool',
  'features',
  'tiles',
  'analysis',
  'train',
  'demo',
  'app',
  'serve',
  'cli',
];

const coreDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'core');

/** The core folder holding `file` (an absolute path), or null outside core's folders. */
function folderOf(file) {
  const rel = path.relative(coreDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : null;
}

/** @type {import('eslint').Rule.RuleModule} */
const coreOrderRule = {
  meta: {
    type: 'problem',
    docs: { description: "core/X imports only core's folders below X (core/README.md)." },
    schema: [],
    messages: {
      upward:
        "core/{{from}} may not import core/{{to}}: {{to}} sits above {{from}} in core's order (core/README.md). Move the code down to the lowest folder that needs it.",
      unknown: "core/{{folder}} is not in core's order: add it to CORE_ORDER in scripts/core-order.mjs and to core/README.md.",
    },
  },
  create(context) {
    const file = context.filename;
    const from = folderOf(file);
    if (!from) return {};
    const fromRank = CORE_ORDER.indexOf(from);
    const check = (source) => {
      const spec = source?.type === 'Literal' ? source.value : source?.type === 'TSLiteralType' ? source.literal?.value : undefined;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = folderOf(path.resolve(path.dirname(file), spec));
      if (!to || to === from) return;
      const toRank = CORE_ORDER.indexOf(to);
      if (toRank < 0) context.report({ node: source, messageId: 'unknown', data: { folder: to } });
      else if (fromRank < 0) context.report({ node: source, messageId: 'unknown', data: { folder: from } });
      else if (toRank > fromRank) context.report({ node: source, messageId: 'upward', data: { from, to } });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
      TSImportType: (n) => check('source' in n ? n.source : n.argument),
    };
  },
};

export const coreOrderPlugin = { rules: { 'core-order': coreOrderRule } };
