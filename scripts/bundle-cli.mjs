// Bundles the `cedana` binary into packages/cli/dist/bundle/ (what /usr/local/bin/cedana and the
// tests run): tsc's dist/main.js and everything it imports, yargs, grpc-js and @cedana/core
// included, as ESM chunks; the code of a rarely used command stays in a chunk of its own that
// only its dynamic import() loads. A cold start then opens a handful of files instead of ~300,
// which was most of its cost.
//
// Left outside, resolved at run time from packages/cli/node_modules as before:
// - @cedana/daemon (`daemon start`, and the plugin loader): the daemon and the plugins it loads
//   share the one @cedana/core and @cedana/plugin-sdk that the plugins dir links to (see
//   daemon/src/plugins/host-modules.ts); the copy of core inside the bundle only serves the
//   CLI's own code, which recognises errors by code and features by name, never by identity.
// - pacote and npm-package-arg (plugin install/update): big, rarely used, resolve files at run time.
// - @grpc/proto-loader: grpc-js requires it only for channelz, which a client never starts.
import { cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
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
 * string-width 7 (under cliui and wrap-ansi, which lay out yargs' help) segments every string with
 * Intl.Segmenter, ~25 µs a call; yargs lays out the help of the command it runs even when it does
 * not print it, ~20 ms of every start. Printable ASCII is one column a character in every version,
 * so those strings are measured by their length and all others by string-width itself.
 */
const asciiStringWidth = {
  name: 'ascii-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, (args) =>
      args.kind === 'import-statement' && args.namespace === 'file'
        ? { path: args.importer, namespace: 'ascii-string-width', pluginData: { resolveDir: args.resolveDir } }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'ascii-string-width' }, (args) => ({
      contents: `import stringWidth from 'string-width';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
export default (text, options) => (typeof text === 'string' && PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text, options));`,
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }));
  },
};

const coreVersion = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8')).version;

// Built beside the old bundle and renamed into place: a `cedana` started meanwhile finds one or the other.
const tmp = `${out}.${process.pid}.tmp`;
rmSync(tmp, { recursive: true, force: true });
await build({
  entryPoints: { main: join(cli, 'dist/main.js') },
  outdir: tmp,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  external: ['@cedana/daemon', '@cedana/daemon/*', 'pacote', 'npm-package-arg', '@grpc/proto-loader'],
  // The CommonJS packages inside (grpc-js, cli-table3, semver) call require() for Node's modules.
  banner: { js: "import { createRequire as __cedanaRequire } from 'node:module'; const require = __cedanaRequire(import.meta.url);" },
  plugins: [
    asciiStringWidth,
    // HOST_VERSION is read from core's package.json next to core's own files; inside the bundle
    // that would be the CLI's, so the version is written in at build time.
    patch(
      'host-version',
      '/packages/core/dist/version.js',
      "JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))",
      JSON.stringify({ version: coreVersion }),
    ),
    // yargs finds its translations (--help and its errors in $LANG) next to its own files.
    patch('yargs-locales', '/yargs/lib/platform-shims/esm.mjs', "'../../../locales'", "'../locales'"),
  ],
});
cpSync(join(dirname(createRequire(join(cli, 'package.json')).resolve('yargs/package.json')), 'locales'), join(tmp, 'locales'), {
  recursive: true,
});
const old = `${out}.${process.pid}.old`;
if (existsSync(out)) renameSync(out, old);
renameSync(tmp, out);
rmSync(old, { recursive: true, force: true });
