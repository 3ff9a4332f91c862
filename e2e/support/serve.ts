// Starts `dinoscope serve` as a user would (the built CLI, a free port, --json) and stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunningServe {
  /** The editor's link (with its token) and the read-only viewer's. */
  url: string;
  viewerUrl: string;
  viewerToken: string;
  origin: string;
  token: string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** `home` becomes DINOSCOPE_HOME (the recent-projects list), so tests leave the user's config alone.
 * A null project starts the host on the start screen. `env` adds variables (HOME: where the host's file
 * browser starts). */
export async function startServe(projectPath: string | null, home: string, env: Record<string, string> = {}): Promise<RunningServe> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['bin/dinoscope.js', 'serve', ...(projectPath === null ? [] : ['--project', projectPath]), '--port', '0', '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, DINOSCOPE_HOME: home },
    },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`dinoscope serve exited (${code}) before printing its URL:\n${err}`)));
  });
  const info = JSON.parse(first) as { url: string; token: string; viewerUrl: string; viewerToken: string };
  return {
    url: info.url,
    viewerUrl: info.viewerUrl,
    viewerToken: info.viewerToken,
    origin: new URL(info.url).origin,
    token: info.token,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Calls an API method over the serve host's HTTP transport (bearer token); throws the error envelope's message. */
export async function callApi<T>(serve: RunningServe, method: string, ...args: unknown[]): Promise<T> {
  const res = await fetch(`${serve.origin}/api/call/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { ok?: T; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.ok as T;
}
