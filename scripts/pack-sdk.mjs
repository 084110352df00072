// Packs @cedana/plugin-sdk as a third party gets it: one self-contained tarball, with
// @cedana/core (its types and the few values the SDK re-exports), @bufbuild/protobuf
// (which core's message types name) and semver (core's version order) bundled inside, so `npm install <tarball>` needs no
// registry and leaves no `workspace:` range behind. grpc-js is not needed: the SDK's types
// take the messages from `@cedana/core/messages`, which does not import the gRPC service.
// build-catalog.mjs calls packSdk() and records the tarball in catalog.json (`sdk`);
// `cedana plugin sdk` prints its path. `node scripts/pack-sdk.mjs [DEST]` packs one into DEST
// (default: here) and prints its path. A bare `npm pack`/`pnpm pack` in packages/plugin-sdk
// would ship `"@cedana/core": "workspace:^"` (or a range no registry serves): the SDK's
// prepack runs this script with --prepack, which refuses and says the above.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
/** What a package ships of its dist: code and declarations, no tests, no maps (their sources are not shipped). */
const shipped = (src) => !/\.test\.|\.map$|\.tsbuildinfo$/.test(src);

/** Packs the SDK into `dest`; returns { file, version, integrity } of the tarball. */
export function packSdk(dest) {
  const sdkDir = join(root, 'packages/plugin-sdk');
  const coreDir = join(root, 'packages/core');
  const protobufDir = realpathSync(join(coreDir, 'node_modules/@bufbuild/protobuf'));
  const semverDir = realpathSync(join(coreDir, 'node_modules/semver'));
  const sdk = readJson(join(sdkDir, 'package.json'));
  const core = readJson(join(coreDir, 'package.json'));
  const protobuf = readJson(join(protobufDir, 'package.json'));
  const semver = readJson(join(semverDir, 'package.json'));

  const stage = mkdtempSync(join(tmpdir(), 'cedana-sdk-pack-'));
  try {
    const pkg = join(stage, 'package');
    cpSync(join(sdkDir, 'dist'), join(pkg, 'dist'), { recursive: true, filter: shipped });
    cpSync(join(sdkDir, 'native'), join(pkg, 'native'), { recursive: true }); // the C sources of `@cedana/plugin-sdk/native`
    const { dependencies: _workspace, devDependencies: _dev, scripts: _scripts, ...rest } = sdk;
    writeFileSync(
      join(pkg, 'package.json'),
      `${JSON.stringify(
        {
          ...rest,
          description: 'Write cedana plugins: definePlugin, the feature types, CedanaError, spawnJob, and the test kit (./testing)',
          dependencies: { '@cedana/core': core.version, '@bufbuild/protobuf': protobuf.version, semver: semver.version },
          bundleDependencies: ['@cedana/core', '@bufbuild/protobuf', 'semver'],
        },
        null,
        2,
      )}\n`,
    );
    const coreOut = join(pkg, 'node_modules/@cedana/core');
    cpSync(join(coreDir, 'dist'), join(coreOut, 'dist'), { recursive: true, filter: shipped });
    const { dependencies: coreDeps, devDependencies: _coreDev, ...coreRest } = core;
    writeFileSync(
      join(coreOut, 'package.json'),
      `${JSON.stringify(
        {
          ...coreRest,
          dependencies: { '@bufbuild/protobuf': coreDeps['@bufbuild/protobuf'], semver: coreDeps.semver },
          // only `@cedana/core/proto` (the gRPC service) needs it; the SDK never imports that
          peerDependencies: { '@grpc/grpc-js': coreDeps['@grpc/grpc-js'] },
          peerDependenciesMeta: { '@grpc/grpc-js': { optional: true } },
        },
        null,
        2,
      )}\n`,
    );
    cpSync(protobufDir, join(pkg, 'node_modules/@bufbuild/protobuf'), { recursive: true, dereference: true });
    cpSync(semverDir, join(pkg, 'node_modules/semver'), { recursive: true, dereference: true });
    mkdirSync(dest, { recursive: true });
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
      cwd: pkg,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_cache: join(stage, 'npm-cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = JSON.parse(out.toString())[0]
      .filename.replace(/^@cedana\//, '')
      .replace(/^@/, '');
    const integrity = `sha512-${createHash('sha512')
      .update(readFileSync(join(dest, file)))
      .digest('base64')}`;
    return { name: sdk.name, version: sdk.version, file, integrity };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--prepack') {
    console.error(
      [
        'refusing to pack packages/plugin-sdk as it is: its package.json depends on "@cedana/core": "workspace:^",',
        'which no registry serves, so the tarball would not install outside this repository.',
        'The installable SDK (with @cedana/core bundled) is packed by scripts/pack-sdk.mjs:',
        '  node scripts/pack-sdk.mjs DEST     (prints the tarball path)',
        '  cedana plugin sdk                  (the one the build put in the local catalog)',
      ].join('\n'),
    );
    process.exit(1);
  }
  const dest = resolve(process.argv[2] ?? '.');
  console.log(join(dest, packSdk(dest).file));
}
