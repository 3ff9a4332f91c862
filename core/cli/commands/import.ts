// `dinoscope import <project> <paths...>`: add images to a project (created when the folder has none).
// Progress on stderr; the ImportReport as JSON on stdout once pyramid caches are built. `--mpp X` states
// the pixel size of the images this import adds whose files state none (the others keep their file's own).
import { resolve } from 'node:path';
import { homedir } from 'node:os';
import { stat } from 'node:fs/promises';
import type { ImageEntry, ImportReport } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { Project } from '../../project/project.js';
import { checkFlags, flagNumber, parseArgs, type Command } from '../command.js';

export const importCommand: Command = {
  name: 'import',
  summary: 'import image files or folders into a project',
  usage:
    'usage: dinoscope import <project> <paths...> [--mpp X]\n\nCreates the project when the folder has no project.json. Prints the import report as JSON.\n' +
    '--mpp X states X µm per pixel (at full resolution) for the added images whose files state no pixel size;\n' +
    "a file's own pixel size is never overridden (dinoscope images set-mpp changes a stated one later).",
  flags: ['mpp'],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['mpp'], 'import');
    const mpp = flagNumber(flags, 'mpp', false, true);
    const [projectArg, ...paths] = positional;
    if (!projectArg || paths.length === 0)
      throw new DinoscopeError('BAD_INPUT', 'needs a project folder and at least one path (dinoscope import <project> <paths...>).');
    const projectDir = resolve(projectArg);
    try {
      const s = await stat(projectDir);
      if (!s.isDirectory()) throw new DinoscopeError('BAD_INPUT', `${projectDir} is a file, not a project folder.`);
    } catch (err) {
      if (err instanceof DinoscopeError) throw err;
    }
    const absent: string[] = [];
    for (const p of paths) await stat(resolve(p)).catch(() => absent.push(resolve(p)));
    if (absent.length === paths.length)
      throw new DinoscopeError('BAD_INPUT', `nothing to import: ${absent.join(', ')} ${absent.length === 1 ? 'does' : 'do'} not exist.`);
    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: homedir() });
    const offProgress = service.on('jobProgress', (p) => {
      if (p.state === 'running' && p.total === 0) return;
      const pct = p.total > 0 ? ` ${Math.round((100 * p.done) / p.total)}%` : '';
      const eta = p.etaSeconds !== null && p.state === 'running' ? `, ${Math.ceil(p.etaSeconds)} s left` : '';
      io.stderr(
        `${p.label}: ${p.state === 'running' ? `${p.done}/${p.total}${pct}${eta}` : p.state}${p.message && p.state !== 'running' ? ` (${p.message})` : ''}\n`,
      );
    });
    io.signal.addEventListener('abort', () => {
      for (const j of service.jobs.running()) service.jobs.get(j.jobId)?.cancel();
    });
    try {
      if (await Project.exists(projectDir)) await service.openProject(projectDir);
      else {
        // Another import may create it first (create refuses an existing project.json): then add to that one.
        const created = await service.createProject(projectDir).then(
          () => true,
          async (err: unknown) => {
            if (!(await Project.exists(projectDir))) throw err;
            await service.openProject(projectDir);
            return false;
          },
        );
        if (created) io.stderr(`dinoscope import: created a new project in ${projectDir}\n`);
      }
      const report = await service.importPaths(paths.map((p) => resolve(p)));
      await service.idle();
      if (mpp !== undefined) {
        const now = (await service.currentProject())?.images ?? [];
        const added = new Set(report.added.map((e) => e.id));
        const ids = now.filter((e) => added.has(e.id) && e.meta && !e.meta.mpp).map((e) => e.id);
        if (ids.length > 0) await service.setImageMpp({ mpp, imageIds: ids });
        const own = now.filter((e) => added.has(e.id) && e.meta?.mpp).length;
        io.stderr(
          `dinoscope import: stated ${mpp} µm/px for ${ids.length} image${ids.length === 1 ? '' : 's'} whose file states none${own ? `; ${own} state${own === 1 ? 's' : ''} their own and keep${own === 1 ? 's' : ''} it` : ''}.\n`,
        );
      }
      const final = refresh(report, (await service.currentProject())?.images ?? []);
      io.stdout(JSON.stringify(final, null, 2) + '\n');
      return 0;
    } finally {
      offProgress();
      await service.close();
    }
  },
};

/** The report with each added entry as it is now (after background pyramid caches); an image whose
 * pyramid cache failed is then unreadable, so it joins the failed list with the reason. */
function refresh(report: ImportReport, now: ImageEntry[]): ImportReport {
  const byId = new Map(now.map((e) => [e.id, e]));
  const added = report.added.map((e) => byId.get(e.id) ?? e);
  const failed = [...report.failed];
  for (const e of added) {
    if ((e.status === 'unsupported' || e.status === 'corrupt') && !failed.some((f) => f.path === e.path))
      failed.push({ path: e.path, reason: e.reason ?? e.status });
  }
  return { ...report, added, failed };
}
