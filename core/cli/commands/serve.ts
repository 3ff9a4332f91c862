// `dinoscope serve [--project P] [--port N] [--host 127.0.0.1] [--json]`: the UI and the API for a browser.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DinoscopeError } from '../../common/errors.js';
import { startServeHost } from '../../serve/host.js';
import { parseArgs, type Command } from '../command.js';

/** dist/renderer beside the running bundle (dist/cli/main.js) or the source tree (core/cli/commands/). */
export function defaultRendererDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, '../renderer'), resolve(here, '../../../dist/renderer')])
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  return resolve(here, '../renderer');
}

const KNOWN = ['project', 'port', 'host', 'json', 'renderer'];

export const serveCommand: Command = {
  name: 'serve',
  flags: KNOWN,
  summary: 'serve the app to a browser on this machine (token-protected)',
  usage: [
    'usage: dinoscope serve [--project P] [--port N] [--host 127.0.0.1] [--json]',
    '',
    '  --project P   open (or create) the project folder P',
    '  --port N      port to listen on (default 8484; 0 picks a free one)',
    '  --host H      address to bind (default 127.0.0.1; anything else is reachable from other machines)',
    '  --json        print {url, port, token} as JSON on stdout',
  ].join('\n'),
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, ['json']);
    if (positional.length > 0) throw new DinoscopeError('BAD_INPUT', `unexpected argument '${positional[0]}' (use --project P).`);
    for (const name of flags.keys()) if (!KNOWN.includes(name)) throw new DinoscopeError('BAD_INPUT', `unknown option --${name}.`);
    const portFlag = flags.get('port') ?? '8484';
    const port = Number(portFlag);
    if (typeof portFlag !== 'string' || !Number.isInteger(port) || port < 0 || port > 65535)
      throw new DinoscopeError('BAD_INPUT', `--port must be an integer 0..65535 (got ${String(portFlag)}).`);
    const hostFlag = flags.get('host') ?? '127.0.0.1';
    if (typeof hostFlag !== 'string') throw new DinoscopeError('BAD_INPUT', '--host needs an address.');
    const project = flags.get('project');
    if (project === true) throw new DinoscopeError('BAD_INPUT', '--project needs a folder.');
    const renderer = flags.get('renderer');
    const host = await startServeHost({
      projectPath: project ? resolve(project) : undefined,
      port,
      host: hostFlag,
      rendererDir: typeof renderer === 'string' ? resolve(renderer) : defaultRendererDir(),
      log: (line) => io.stderr(line + '\n'),
      version: process.env.npm_package_version,
    });
    io.stderr(`dinoscope serve: open ${host.url}\n`);
    if (flags.has('json')) io.stdout(JSON.stringify({ url: host.url, port: host.port, token: host.token }) + '\n');
    else io.stdout(host.url + '\n');
    await new Promise<void>((r) => (io.signal.aborted ? r() : io.signal.addEventListener('abort', () => r(), { once: true })));
    io.stderr('dinoscope serve: shutting down\n');
    await host.close();
    return 0;
  },
};
