// Bundles the `cedana` binary into packages/cli/dist/bundle/ (what /usr/local/bin/cedana and the
// tests run): tsc's dist/main.js and everything it imports, yargs, grpc-js and @cedana/core
// included, as ESM chunks; the code of a rarely used command stays in a chunk of its own that
// only its dynamic import() loads. A cold start then opens a handful of files instead of ~300,
// which was most of its cost. Then the same CLI as one CommonJS file (snapshot.cjs) made into a
// V8 startup snapshot (main.blob, with main.blob.stamp), and the launcher `cedana` that runs it
// while it fits the node on PATH, else main.js.
//
// Left outside, resolved at run time from packages/cli/node_modules as before:
// - @cedana/daemon (`daemon start`, and the plugin loader): the daemon and the plugins it loads
//   share the one @cedana/core and @cedana/plugin-sdk that the plugins dir links to (see
//   daemon/src/plugins/host-modules.ts); the copy of core inside the bundle only serves the
//   CLI's own code, which recognises errors by code and features by name, never by identity.
// - pacote and npm-package-arg (plugin install/update): big, rarely used, resolve files at run time.
// - @grpc/proto-loader: grpc-js requires it only for channelz, which a client never starts.
//
// The unary calls go over the CLI's own client on node:http2 (client.ts, grpc-unary.ts), which
// is small and in the snapshot; grpc-js (~550 KB) serves only the streaming calls (Attach,
// Progress: client-streams.ts). Node 20 keeps no compiled code of ES modules between runs, but
// vm.Script takes V8's code cache, so that part is bundled as CommonJS (client-streams.cjs)
// with a cache the build makes (client-streams.cjs.v8-cache) and loaded by a small chunk in its
// place. V8 refuses a cache made by another node or with other flags, and then compiles as
// usual; the two files are only ever written together.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'packages/cli');
// As deep as tsc's dist/plugins/: catalog.ts finds packages/cli/catalog/ at '../../catalog/' of its own file.
const out = join(cli, 'dist/bundle');

/** Replaces `from` (which must occur) in the files whose path ends with `suffix`. */
function patch(name, suffix, from, to) {
  return {
    name,
    setup(b) {
      b.onLoad({ filter: new RegExp(`${suffix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes(from)) throw new Error(`${name}: ${args.path} no longer contains ${from}; update scripts/bundle-cli.mjs`);
        return { contents: text.replace(from, to), loader: 'js' };
      });
    },
  };
}

/**
 * string-width (7 under cliui and wrap-ansi, 8 under yargs; they lay out the help, which yargs does
 * for the command it runs even when it prints nothing) costs ~25 ms to import (an Intl.Segmenter and
 * Unicode-set regexps made at load) and ~25 µs a call. Every import of it gets this stand-in: text
 * that is printable ASCII, or that plus typographic quotes (East Asian ambiguous, one column unless
 * the caller asks for ambiguous as wide), is one column a character in every version, so it is
 * measured by its length; any other text loads string-width (on first use) and asks it.
 */
const stringWidthOnDemand = {
  name: 'string-width-on-demand',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, (args) =>
      args.kind === 'import-statement' && args.namespace === 'file'
        ? { path: args.importer, namespace: 'string-width-on-demand', pluginData: { resolveDir: args.resolveDir } }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'string-width-on-demand' }, (args) => ({
      contents: `const ONE_COLUMN = /^[\\x20-\\x7e]*$/;
const ONE_COLUMN_IF_NARROW = /^[\\x20-\\x7e\\u2018\\u2019\\u201c\\u201d]*$/;
let stringWidth;
export default (text, options) => {
  if (typeof text === 'string' && (ONE_COLUMN.test(text) || (options?.ambiguousIsNarrow !== false && ONE_COLUMN_IF_NARROW.test(text)))) return text.length;
  stringWidth ??= require('string-width').default;
  return stringWidth(text, options);
};`,
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }));
  },
};

/**
 * yargs renders the help of the command it runs right after starting its handler, in case the
 * handler calls showHelp() (~5-10 ms for `ps`, more for `plugin list`). No handler of ours does
 * (cli.ts shows help only from fail(), before any handler, when yargs renders it anyway), so the
 * bundle skips that: `--help` and usage errors print the same as before.
 */
const noHelpCacheForHandlers = patch(
  'yargs-no-help-cache',
  '/yargs/build/lib/command.js',
  'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();',
  '',
);

const coreVersion = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8')).version;

// HOST_VERSION is read from core's package.json next to core's own files; inside the bundle
// that would be the CLI's, so the version is written in at build time.
const hostVersion = patch(
  'host-version',
  '/packages/core/dist/version.js',
  "JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))",
  JSON.stringify({ version: coreVersion }),
);

/** How client-streams.cjs is compiled, at run time and when the build makes its cache: the same text, or V8 refuses the cache. */
const COMPILE_CLIENT = `const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
const module = { exports: {} };
script.runInThisContext()(module.exports, Module.createRequire(file), module, file, dirname(file));`;

/** client.js' `import('./client-streams.js')` gets client-streams.cjs, compiled with its code cache. */
const clientWithCodeCache = {
  name: 'client-with-code-cache',
  setup(b) {
    b.onResolve({ filter: /^\.\/client-streams\.js$/ }, (args) =>
      args.importer === join(cli, 'dist/client.js') ? { path: 'client-streams.cjs', namespace: 'client-with-code-cache' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'client-with-code-cache' }, () => ({
      contents: `import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
const file = fileURLToPath(new URL('./client-streams.cjs', import.meta.url));
let cachedData;
try { cachedData = readFileSync(\`\${file}.v8-cache\`); } catch {}
${COMPILE_CLIENT}
export const { streamsClient } = module.exports;`,
      resolveDir: cli,
      loader: 'js',
    }));
  },
};

/**
 * For the startup snapshot (snapshot.cjs, CommonJS as `--build-snapshot` wants): client.js'
 * `import('./client-streams.js')` gets a loader that compiles client-streams.cjs with its code
 * cache at run time (grpc-js needs http2, which a snapshot cannot hold), as the ESM loader above.
 */
const clientAtRunTime = {
  name: 'client-at-run-time',
  setup(b) {
    b.onResolve({ filter: /^\.\/client-streams\.js$/ }, (args) =>
      args.importer === join(cli, 'dist/client.js') ? { path: 'client-streams.cjs', namespace: 'client-at-run-time' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'client-at-run-time' }, () => ({
      contents: `import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
let loaded;
export function streamsClient(...args) {
  if (!loaded) {
    const file = join(__dirname, 'client-streams.cjs');
    let cachedData;
    try { cachedData = readFileSync(\`\${file}.v8-cache\`); } catch {}
    ${COMPILE_CLIENT}
    loaded = module.exports;
  }
  return loaded.streamsClient(...args);
}`,
      resolveDir: cli,
      loader: 'js',
    }));
  },
};

/**
 * Code in a snapshot has no dynamic import(): `import('@cedana/daemon...')` (daemon start, the
 * plugin loader) becomes __cedanaImport(), which imports through vm's main-context loader at
 * run time.
 */
const daemonImportAtRunTime = {
  name: 'daemon-import-at-run-time',
  setup(b) {
    b.onLoad({ filter: /\/packages\/cli\/dist\/.*\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      return { contents: text.replace(/\bimport\((['"])@cedana\/daemon/g, '__cedanaImport($1@cedana/daemon'), loader: 'js' };
    });
  },
};

/**
 * yargs' shim for the snapshot: its translations next to the bundle (as yargs-locales does), and
 * process.stdout.columns read when asked, not when it loads (in a snapshot that would be the
 * builder's stdout, and a handle V8 cannot keep).
 */
const YARGS_SHIM = '/yargs/lib/platform-shims/esm.mjs';
const yargsShimForSnapshot = {
  name: 'yargs-shim-for-snapshot',
  setup(b) {
    b.onLoad({ filter: /\/yargs\/lib\/platform-shims\/esm\.mjs$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const [from, to] of [
        ["'../../../locales'", "'../locales'"],
        [
          "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
          "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }",
        ],
      ]) {
        if (!text.includes(from))
          throw new Error(`yargs-shim-for-snapshot: ${YARGS_SHIM} no longer contains ${from}; update scripts/bundle-cli.mjs`);
        text = text.replace(from, to);
      }
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * The snapshot builder's require() knows only node's own modules: every other require (pacote,
 * npm-package-arg) goes through createRequire at run time; import.meta.url is the snapshot.cjs
 * file (the snapshot is made in place, so its paths are those of the bundle folder).
 */
const SNAPSHOT_BANNER = `var __cedanaBuiltin = require;
require = (id) => __cedanaBuiltin('node:module').isBuiltin(id) ? __cedanaBuiltin(id) : __cedanaBuiltin('node:module').createRequire(__filename)(id);
var __cedanaUrl = __cedanaBuiltin('node:url').pathToFileURL(__filename).href;
var __cedanaImport = async (specifier) => {
  const vm = __cedanaBuiltin('node:vm');
  const url = __cedanaBuiltin('node:url').pathToFileURL(__cedanaBuiltin('node:module').createRequire(__filename).resolve(specifier)).href;
  const emit = process.emitWarning;
  // The one warning vm's main-context loader gives ("experimental") is not the user's business.
  process.emitWarning = (w, ...rest) => (String(w?.message ?? w).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER') ? undefined : emit.call(process, w, ...rest));
  try {
    return await vm.runInThisContext('(u) => import(u)', { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER })(url);
  } finally {
    process.emitWarning = emit;
  }
};`;

// Built beside the old bundle and renamed into place: a `cedana` started meanwhile finds one or the other.
const tmp = `${out}.${process.pid}.tmp`;
rmSync(tmp, { recursive: true, force: true });
/** What the builds (the CLI, its grpc-js part as CommonJS, the snapshot's) share. */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
};
await build({
  ...common,
  // fast-fallback.js: the full CLI for fast-main.cjs (below), sharing main.js' chunks.
  entryPoints: { main: join(cli, 'dist/main.js'), 'fast-fallback': join(cli, 'dist/fast-fallback.js') },
  outdir: tmp,
  splitting: true,
  format: 'esm',
  external: ['@cedana/daemon', '@cedana/daemon/*', 'pacote', 'npm-package-arg', '@grpc/proto-loader'],
  // The CommonJS packages inside (grpc-js, cli-table3, semver) call require() for Node's modules.
  banner: { js: "import { createRequire as __cedanaRequire } from 'node:module'; const require = __cedanaRequire(import.meta.url);" },
  plugins: [
    clientWithCodeCache,
    stringWidthOnDemand,
    noHelpCacheForHandlers,
    hostVersion,
    // yargs finds its translations (--help and its errors in $LANG) next to its own files.
    patch('yargs-locales', '/yargs/lib/platform-shims/esm.mjs', "'../../../locales'", "'../locales'"),
  ],
});
await build({
  ...common,
  entryPoints: [join(cli, 'dist/client-streams.js')],
  outfile: join(tmp, 'client-streams.cjs'),
  format: 'cjs',
  external: ['@grpc/proto-loader'],
  plugins: [hostVersion],
});
// The fast path of `cedana ps` (fast-path/ps.ts) on its own: ~75 KB of CommonJS; the rest of the CLI
// (fast-fallback.js) is imported only when that path does not serve the command line.
await build({
  ...common,
  entryPoints: [join(cli, 'dist/fast-main.js')],
  outfile: join(tmp, 'fast-main.cjs'),
  format: 'cjs',
  external: ['./fast-fallback.js'],
});
await build({
  ...common,
  entryPoints: [join(cli, 'dist/snapshot-main.js')],
  outfile: join(tmp, 'snapshot.cjs'),
  format: 'cjs',
  external: ['@cedana/daemon', '@cedana/daemon/*', 'pacote', 'npm-package-arg', '@grpc/proto-loader'],
  define: { 'import.meta.url': '__cedanaUrl' },
  banner: { js: SNAPSHOT_BANNER },
  plugins: [clientAtRunTime, daemonImportAtRunTime, stringWidthOnDemand, noHelpCacheForHandlers, hostVersion, yargsShimForSnapshot],
});
// The cache holds what V8 compiled while client-streams.cjs loaded; made by a plain `node`, as `cedana` runs.
execFileSync(process.execPath, [
  '-e',
  `const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const { Script } = require('node:vm');
const file = ${JSON.stringify(join(tmp, 'client-streams.cjs'))};
const cachedData = undefined;
${COMPILE_CLIENT}
writeFileSync(\`\${file}.v8-cache\`, script.createCachedData());`,
]);
cpSync(join(dirname(createRequire(join(cli, 'package.json')).resolve('yargs/package.json')), 'locales'), join(tmp, 'locales'), {
  recursive: true,
});
// The launcher goes in with the rest, so a `cedana` started during a build finds one; until the
// stamp below is written it runs main.js.
const launcher = join(tmp, 'cedana');
writeFileSync(
  launcher,
  `#!/bin/sh
# The cedana command: node with the CLI's startup snapshot (main.blob) while its stamp matches
# this node and the blob as the build wrote it, else the plain bundle (main.js). Made by
# scripts/bundle-cli.mjs.
d='${out.replaceAll("'", "'\\''")}'
# The node on PATH, else the one that made this build (a PATH without node: a daemon's test harness, a cron job).
node=$(command -v node) || node='${process.execPath.replaceAll("'", "'\\''")}'
[ -x "$node" ] || { echo 'cedana: no node on PATH' >&2; exit 127; }
# The daemon (cedana [options] daemon start) starts from main.js: the snapshot's CLI heap would stay
# resident beside it (~16 MiB at idle), for a start-up it makes once. Its young generation is kept
# at 2 MiB a half (V8's default grows to 16): ~10 MiB less at idle, and its allocations are small
# objects (checkpoint data is in Buffers, outside the heap). docs/architecture.md has the figures.
case " $* " in *" daemon start "*) exec "$node" --max-semi-space-size=2 "$d/main.js" "$@" ;; esac
# Exactly \`cedana ps\` (or jobs): its fast path, no snapshot (fast-path/ps.ts says why).
if [ $# -eq 1 ] && { [ "$1" = ps ] || [ "$1" = jobs ]; }; then exec "$node" "$d/fast-main.cjs" "$@"; fi
# One fork (stat); the stamp is read by the shell itself.
if [ -z "$NODE_OPTIONS" ] && { read -r n && read -r b; } 2>/dev/null <"$d/main.blob.stamp" &&
  [ "$(stat -L -c '%d:%i:%s:%Y:%Z' "$node" "$d/main.blob" 2>/dev/null)" = "$n
$b" ]; then
  exec "$node" --snapshot-blob "$d/main.blob" -- "$@"
fi
exec "$node" "$d/main.js" "$@"
`,
);
chmodSync(launcher, 0o755);
const old = `${out}.${process.pid}.old`;
if (existsSync(out)) renameSync(out, old);
renameSync(tmp, out);
rmSync(old, { recursive: true, force: true });

// The startup snapshot, made in place (its paths are the folder's), then its stamp: the launcher
// uses main.blob only while the stamp matches the node on PATH and the blob as it was written
// (a blob of another node aborts node; a damaged one may crash it), else it runs main.js.
const blob = join(out, 'main.blob');
execFileSync(process.execPath, ['--snapshot-blob', `${blob}.tmp`, '--build-snapshot', join(out, 'snapshot.cjs')], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
renameSync(`${blob}.tmp`, blob);
/** What `stat -L -c '%d:%i:%s:%Y:%Z'` prints of `path`. */
const identity = (path) => {
  const s = statSync(path, { bigint: true });
  return [s.dev, s.ino, s.size, s.mtimeMs / 1000n, s.ctimeMs / 1000n].join(':');
};
writeFileSync(join(out, 'main.blob.stamp'), `${identity(process.execPath)}\n${identity(blob)}\n`);
