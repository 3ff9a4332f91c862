// `dinoscope serve [--project P] [--port N] [--host 127.0.0.1] [--token-file F] [--viewer-token-file F]`:
// the UI and the API for browsers, with an editor link and a read-only viewer link.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DinoscopeError } from '../../common/errors.js';
import { startServeHost } from '../../serve/host.js';
import { loadOrCreateToken } from '../../serve/token-file.js';
import { parseArgs, type Command } from '../command.js';

/** dist/renderer beside the running bundle (dist/cli/main.js) or the source tree (core/cli/commands/). */
export function defaultRendererDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, '../renderer'), resolve(here, '../../../dist/renderer')])
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  return resolve(here, '../renderer');
}

const KNOWN = ['project', 'port', 'host', 'json', 'renderer', 'token-file', 'viewer-token-file'];

/** A --token-file / --viewer-token-file flag: the token kept in the file, or undefined for a fresh one. */
async function tokenFromFlag(value: string | boolean | undefined, flag: string, log: (line: string) => void): Promise<string | undefined> {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new DinoscopeError('BAD_INPUT', `--${flag} needs a file.`);
  const path = resolve(value);
  const { token, created } = await loadOrCreateToken(path, flag);
  if (created) log(`dinoscope serve: wrote a new token to ${path} (--${flag}); it stays the same on the next start`);
  return token;
}

export const serveCommand: Command = {
  name: 'serve',
  flags: KNOWN,
  fields: { viewerToken: 'viewer-token-file' },
  summary: 'serve the app to browsers (an editor link and a read-only viewer link, token-protected)',
  usage: [
    'usage: dinoscope serve [--project P] [--port N] [--host 127.0.0.1] [--token-file F] [--viewer-token-file F]',
    '',
    '  --project P             open (or create) the project folder P',
    '  --port N                port to listen on (default 8484; 0 picks a free one)',
    '  --host H                address to bind (default 127.0.0.1; anything else is reachable from other',
    '                          machines: prefer an SSH tunnel, see docs/serve.md)',
    '  --token-file F          keep the editor token in F (read it, or write a new one there), so the editor',
    '                          link survives a restart; without it each start makes a fresh token',
    '  --viewer-token-file F   the same for the read-only viewer link',
    '',
    'Prints {url, viewerUrl, port, token, viewerToken} as JSON on stdout (--json is accepted, and the',
    'default). The editor link may do everything; the viewer link views, searches and shows maps only.',
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
    const log = (line: string): void => io.stderr(line + '\n');
    const token = await tokenFromFlag(flags.get('token-file'), 'token-file', log);
    const viewerToken = await tokenFromFlag(flags.get('viewer-token-file'), 'viewer-token-file', log);
    if (token !== undefined && token === viewerToken)
      throw new DinoscopeError('BAD_INPUT', '--token-file and --viewer-token-file hold the same token: give each its own file.');
    const host = await startServeHost({
      projectPath: project ? resolve(project) : undefined,
      port,
      host: hostFlag,
      rendererDir: typeof renderer === 'string' ? resolve(renderer) : defaultRendererDir(),
      log,
      version: process.env.npm_package_version,
      token,
      viewerToken,
    });
    io.stderr(`dinoscope serve: editor (full access): ${host.url}\n`);
    io.stderr(`dinoscope serve: viewer (read-only):   ${host.viewerUrl}\n`);
    io.stdout(
      JSON.stringify({ url: host.url, viewerUrl: host.viewerUrl, port: host.port, token: host.token, viewerToken: host.viewerToken }) +
        '\n',
    );
    await new Promise<void>((r) => (io.signal.aborted ? r() : io.signal.addEventListener('abort', () => r(), { once: true })));
    io.stderr('dinoscope serve: shutting down\n');
    await host.close();
    return 0;
  },
};
