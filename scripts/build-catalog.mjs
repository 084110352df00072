// Builds the local catalog of first-party plugins (packages/cli/catalog/): one tarball per
// plugins/* package, made by `pnpm pack` (which turns `workspace:` ranges into real ones),
// and catalog.json with each tarball's name, short name, version and sha512 integrity, and
// the plugin SDK's tarball (pack-sdk.mjs) under `sdk`.
// `cedana plugin install NAME` installs from it when no registry is configured: no network.
// The new catalog is built beside the old one and renamed into place.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packSdk } from './pack-sdk.mjs';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'packages/cli/catalog');
const tmp = `${out}.${process.pid}.tmp`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });

const plugins = [];
for (const dir of readdirSync(join(root, 'plugins')).sort()) {
  const folder = join(root, 'plugins', dir);
  if (!existsSync(join(folder, 'package.json'))) continue;
  const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
  if (!pkg.cedana?.plugin) continue;
  const before = new Set(readdirSync(tmp));
  try {
    execFileSync('pnpm', ['pack', '--pack-destination', tmp], { cwd: folder, stdio: 'pipe' });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    console.error(`catalog: pnpm pack failed in ${folder}:\n${err.stdout}${err.stderr}`);
    process.exit(1);
  }
  const file = readdirSync(tmp).find((f) => !before.has(f) && f.endsWith('.tgz'));
  if (!file) throw new Error(`pnpm pack made no tarball in ${folder}`);
  const integrity = `sha512-${createHash('sha512')
    .update(readFileSync(join(tmp, file)))
    .digest('base64')}`;
  plugins.push({ name: pkg.name, plugin: pkg.cedana.plugin, version: pkg.version, file, integrity });
}
// The SDK a third party builds plugins against (`cedana plugin sdk` prints its path).
const sdk = packSdk(tmp);
writeFileSync(join(tmp, 'catalog.json'), `${JSON.stringify({ plugins, sdk }, null, 2)}\n`);
rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
console.log(`catalog: ${plugins.map((p) => `${p.plugin}@${p.version}`).join(', ')}, sdk ${sdk.version} -> ${out}`);
