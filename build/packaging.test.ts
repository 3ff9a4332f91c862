// Packaging cannot run here (electron-builder downloads Electron), so this keeps its configuration
// honest: it passes electron-builder's own schema validation, names the targets and icons the issue
// asks for, and unpacks from the asar every native file the production dependency tree ships.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

interface PlatformConfig {
  target: string[];
  icon: string;
  category?: string;
  hardenedRuntime?: boolean;
  files?: string[];
}
interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  electronFuses: Record<string, boolean>;
  directories: { output: string; buildResources: string };
  linux: PlatformConfig;
  mac: PlatformConfig;
  win: PlatformConfig;
}
const config = require('./electron-builder.config.cjs') as BuilderConfig;

/** A glob as electron-builder (minimatch) reads it: `**` any depth, `*` within a segment, `{a,b}`. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((s) => s.replace(/[.+^$()|[\]\\]/g, '\\$&'))
        .join('|')})`;
      i = end;
    } else re += c.replace(/[.+^$()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
const matchesAny = (file: string, globs: readonly string[]): boolean => globs.some((g) => globToRegExp(g).test(file));

/** *.node addons and shared libraries (.so, .so.N, .dylib, .dll) of one package, not descending into
 * its own node_modules (those packages are listed separately). */
function nativeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...nativeFiles(full));
    else if (/\.node$|\.so(\.\d+)*$|\.dylib$|\.dll$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** The installed production dependency tree, as npm sees it. */
function productionPackages(): string[] {
  const listing = execFileSync('npm', ['ls', '--prod', '--parseable', '--all'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return listing
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && path.resolve(l) !== root);
}

describe('electron-builder configuration', () => {
  it("passes electron-builder's own schema validation, and that validation does reject a bad key", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, log: { isEnabled: boolean; add(): void }): Promise<void>;
    };
    const log = { isEnabled: false, add: () => undefined };
    await expect(validateConfiguration(config, log)).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, linux: { ...config.linux, categry: 'Science' } }, log)).rejects.toThrow(
      /configuration/i,
    );
  });

  it('names the app, the files, the asar and the targets', () => {
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z0-9-]+)+$/);
    expect(config.productName).toBe('Dinoscope');
    expect(config.files).toEqual(expect.arrayContaining(['dist/**', 'bin/**', 'package.json']));
    expect(config.asar).toBe(true);
    expect(config.npmRebuild).toBe(false);
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.linux.category).toBe('Science');
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac.hardenedRuntime).toBe(false);
    expect(config.win.target).toEqual(['nsis']);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };
    expect(pkg.scripts.dist).toContain('electron-builder --config build/electron-builder.config.cjs');
    expect(pkg.main).toBe('dist/electron/main.cjs');
    expect(readFileSync(path.join(root, 'scripts', 'build.mjs'), 'utf8')).toContain("'electron/main/main.ts'");
  });

  it('sets the Electron fuses that lock a packaged app down, as electron-builder hands them to @electron/fuses', async () => {
    expect(config.electronFuses).toMatchObject({
      // On until the training child and the hardware probe run as utility processes (they fork
      // process.execPath with ELECTRON_RUN_AS_NODE; off, a packaged app could not train).
      runAsNode: true,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
    // electron-builder's own translation (the one it flips the binary with) names every fuse we set:
    // a key it does not know would be silently dropped.
    const { PlatformPackager } = require('app-builder-lib') as {
      PlatformPackager: { prototype: { generateFuseConfig(f: Record<string, boolean>): Promise<Record<string | number, unknown>> } };
    };
    const { FuseV1Options, FuseVersion } = require('@electron/fuses') as {
      FuseV1Options: Record<string, number>;
      FuseVersion: Record<string, string>;
    };
    const wire = await PlatformPackager.prototype.generateFuseConfig.call({}, config.electronFuses);
    expect(wire).toMatchObject({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: true,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    });
    expect(Object.keys(wire).filter((k) => k !== 'version' && k !== 'resetAdHocDarwinSignature')).toHaveLength(
      Object.keys(config.electronFuses).length,
    );
    // onlyLoadAppFromAsar needs the app inside an asar.
    expect(config.asar).toBe(true);
  });

  it('points at icons that exist, at the sizes they claim', async () => {
    for (const size of [16, 32, 48, 64, 128, 256, 512]) {
      const meta = await sharp(path.join(root, 'build', 'icons', `${size}x${size}.png`)).metadata();
      expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual(['png', size, size, true]);
    }
    expect(existsSync(path.join(root, config.linux.icon))).toBe(true);
    expect(existsSync(path.join(root, 'resources', 'icon.svg'))).toBe(true);

    // ICO: ICONDIR + entries, each a PNG whose header matches its entry.
    const ico = readFileSync(path.join(root, config.win.icon));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    const icoSizes: number[] = [];
    for (let i = 0; i < ico.readUInt16LE(4); i++) {
      const e = 6 + 16 * i;
      const size = ico[e] || 256;
      const png = ico.subarray(ico.readUInt32LE(e + 12), ico.readUInt32LE(e + 12) + ico.readUInt32LE(e + 8));
      expect((await sharp(png).metadata()).width).toBe(size);
      icoSizes.push(size);
    }
    expect(icoSizes).toEqual(expect.arrayContaining([16, 32, 48, 256]));

    // ICNS: 'icns' + length, then typed PNG entries covering 16@2x … 512@2x.
    const icns = readFileSync(path.join(root, config.mac.icon));
    expect(icns.toString('latin1', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const types = new Map<string, number>();
    for (let off = 8; off < icns.length; off += icns.readUInt32BE(off + 4)) {
      const png = icns.subarray(off + 8, off + icns.readUInt32BE(off + 4));
      types.set(icns.toString('latin1', off, off + 4), (await sharp(png).metadata()).width ?? 0);
    }
    expect(Object.fromEntries(types)).toMatchObject({ ic07: 128, ic08: 256, ic09: 512, ic10: 1024 });
  });

  it('unpacks every native file of the production dependency tree from the asar', () => {
    // Packages the files list leaves out of the app (LanceDB's unused embedding back-ends) ship nothing.
    const left = config.files.filter((f: string) => f.startsWith('!node_modules/')).map((f: string) => f.slice(1));
    const packages = productionPackages().filter((p) => !matchesAny(`${path.relative(root, p).split(path.sep).join('/')}/x`, left));
    expect(packages.map((p) => path.basename(p))).toEqual(expect.arrayContaining(['sharp', 'onnxruntime-node']));
    const natives = packages.flatMap(nativeFiles).map((f) => path.relative(root, f).split(path.sep).join('/'));
    // Not vacuous: the addons and libraries the app loads on this platform are among them.
    expect(natives.some((f) => /onnxruntime-node\/bin\/.*onnxruntime_binding\.node$/.test(f))).toBe(true);
    expect(natives.some((f) => /@img\/sharp-[^/]+\/lib\/.*\.node$/.test(f))).toBe(true);
    expect(natives.some((f) => /@img\/sharp-libvips-[^/]+\/lib\/.*\.(so[.\d]*|dylib|dll)$/.test(f))).toBe(true);
    // The shared libraries are loaded by the dynamic linker, not require(): only the explicit package
    // patterns unpack them, the **/*.node safety net does not.
    expect(natives.filter((f) => !matchesAny(f, ['**/*.node'])).length).toBeGreaterThan(0);
    const packed = natives.filter((f) => !matchesAny(f, config.asarUnpack));
    expect(packed).toEqual([]);
  });

  it("keeps each platform's own native files in its package", () => {
    const own = { linux: 'linux', mac: 'darwin', win: 'win32' } as const;
    for (const [platform, dir] of Object.entries(own) as [keyof typeof own, string][]) {
      const excluded = (config[platform].files ?? []).filter((g) => g.startsWith('!')).map((g) => g.slice(1));
      expect(matchesAny(`node_modules/onnxruntime-node/bin/napi-v6/${dir}/x64/onnxruntime_binding.node`, excluded)).toBe(false);
      for (const other of Object.values(own).filter((d) => d !== dir)) {
        expect(matchesAny(`node_modules/onnxruntime-node/bin/napi-v6/${other}/x64/onnxruntime_binding.node`, excluded)).toBe(true);
      }
    }
  });

  it('reads globs the way electron-builder does', () => {
    expect(matchesAny('a/b/c.node', ['**/*.node'])).toBe(true);
    expect(matchesAny('c.node', ['**/*.node'])).toBe(true);
    expect(matchesAny('node_modules/x/a.so', ['node_modules/x/*.node'])).toBe(false);
    expect(
      matchesAny('node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.8.18.7', ['node_modules/@img/sharp-libvips-*/**']),
    ).toBe(true);
  });
});
