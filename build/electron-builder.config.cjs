// electron-builder configuration: `npm run dist` (downloads Electron, so it cannot run on machines
// without internet; build/packaging.test.ts keeps it honest there).
//
// Native code: sharp (with libvips from @img/sharp-libvips-*) and onnxruntime-node load .node addons
// and shared libraries through the dynamic linker, which cannot read inside an asar archive, so every
// native file is unpacked (asarUnpack). Both addons use N-API, so the prebuilt binaries npm installed
// load in Electron as they are: no rebuild against Electron's headers (npmRebuild: false). koffi (the FFI
// the OpenSlide reader loads the system's libopenslide with) is N-API too, its prebuilt koffi.node in
// @koromix/koffi-<platform>; OpenSlide itself is not packaged: the app finds the installed library.
// Production dependencies are copied into the app by electron-builder itself (devDependencies never).

/** Globs (relative to the app folder) of every native file the app may load; the test checks that each
 * *.node and shared library of the production dependency tree falls under one of them. */
const asarUnpack = [
  'node_modules/onnxruntime-node/bin/**',
  'node_modules/sharp/**/*.node',
  'node_modules/@img/sharp-*/**',
  'node_modules/@img/sharp-libvips-*/**',
  '**/*.node',
];

/** Electron fuses (@electron/fuses, flipped in the packaged binary by electron-builder before signing):
 * the packaged app cannot be fed NODE_OPTIONS or --inspect, or made to run code from outside its
 * (integrity-checked) app.asar; cookies are encrypted with the OS keystore; file: pages get no privileges
 * beyond a browser's (the app uses dinoscope:).
 * runAsNode stays on, deliberately: the training child and the hardware probe are forked from
 * process.execPath with ELECTRON_RUN_AS_NODE=1 (core/io/fork.ts); with the fuse off a packaged app would
 * start a second window instead of training. They are started by the AppService, which runs in the
 * service process (a utility process, electron/service/); utility processes cannot start utility
 * processes of their own, so the fuse goes off only once the main process starts them on its behalf. */
const electronFuses = {
  runAsNode: true,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: false,
};

/** @type {import('app-builder-lib').Configuration} */
module.exports = {
  appId: 'org.dinoscope.app',
  productName: 'Dinoscope',
  copyright: 'Copyright © Dinoscope contributors',
  directories: { output: 'out', buildResources: 'build' },
  files: [
    'dist/**',
    '!dist/**/*.map',
    'bin/**',
    'package.json',
    // node_modules: production dependencies, added by electron-builder, except LanceDB's optional
    // embedding back-ends (transformers.js with its own onnxruntime-node and sharp, onnxruntime-web, the
    // OpenAI client): npm installs them with @lancedb/lancedb, which loads them only for its embedding
    // functions; Dinoscope stores its own vectors and never calls those.
    '!node_modules/@huggingface/**',
    '!node_modules/onnxruntime-web/**',
    '!node_modules/openai/**',
  ],
  asar: true,
  asarUnpack,
  electronFuses,
  npmRebuild: false,
  nodeGypRebuild: false,
  extraMetadata: { main: 'dist/electron/main.cjs' },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    icon: 'build/icons',
    executableName: 'dinoscope-app',
    synopsis: 'Annotation-free analysis of gigapixel images',
    description: 'Annotation-free analysis of gigapixel images (whole-slide pathology) with self-supervised Vision Transformers.',
    maintainer: 'Dinoscope contributors <dinoscope@users.noreply.github.com>',
    // Other platforms' onnxruntime binaries are dead weight here.
    files: ['!node_modules/onnxruntime-node/bin/napi-v*/{darwin,win32}/**'],
  },
  deb: { priority: 'optional' },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.medical',
    icon: 'build/icons/icon.icns',
    // Off for now: the app is not signed or notarized yet. Notarization needs the hardened runtime on,
    // with entitlements allowing JIT for V8 (com.apple.security.cs.allow-jit).
    hardenedRuntime: false,
    files: ['!node_modules/onnxruntime-node/bin/napi-v*/{linux,win32}/**'],
  },
  dmg: { sign: false },
  win: {
    target: ['nsis'],
    icon: 'build/icons/icon.ico',
    files: ['!node_modules/onnxruntime-node/bin/napi-v*/{darwin,linux}/**'],
  },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
};
