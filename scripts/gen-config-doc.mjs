// Writes docs/configuration.md from CONFIG_KEYS (packages/core/src/config.ts), the one list of keys.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_KEYS, envName } from '../packages/core/dist/config.js';

let out = `# Configuration

\`~/.cedana/config.json\` (or \`--config FILE\`, or \`CEDANA_CONFIG\`) holds nested JSON objects, e.g.
\`{ "checkpoint": { "dir": "/data/checkpoints", "compression": "lz4" } }\`. Each key can be overridden
by its environment variable, and that by a flag where the CLI has one. A bad value stops the CLI
and the daemon with \`CEDANA_ERR_CONFIG_VALUE\` naming the key and where the value came from.

This page is generated from \`packages/core/src/config.ts\` by \`node scripts/gen-config-doc.mjs\`.

| Key | Environment | Type | Default | Meaning |
|---|---|---|---|---|
`;
for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
  const type = spec.values ? spec.values.join(' \\| ') : spec.type;
  out += `| \`${key}\` | \`${envName(key)}\` | ${type} | \`${JSON.stringify(spec.default)}\` | ${spec.describe} |\n`;
}
out += `
A plugin's own settings go in an object under \`plugins\` named after the plugin, e.g.
\`{ "plugins": { "hook": { "pre_dump": ["sync"] } } }\`: cedana passes it to the plugin as it is
(\`pluginConfig(ctx.config, 'hook')\` in the SDK; see docs/writing-plugins.md), with no environment
variable; the plugin checks it. Any other unknown key is refused.
`;
const doc = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
writeFileSync(doc, out);
// As the lint wants it (aligned table columns): a generated page that fails `biome check` fails the test command.
execFileSync('pnpm', ['exec', 'biome', 'format', '--write', doc], { stdio: 'ignore', cwd: fileURLToPath(new URL('..', import.meta.url)) });
