#!/usr/bin/env bash
# Everything a fresh Debian 12 machine (as root) needs to run cedana and its tests:
# Debian packages, CRIU >= 4.2, pnpm, the workspace build, the first-party plugins
# in the plugins folder, and `cedana` on PATH. Idempotent: a second run is quick.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
say() { echo "[setup] $*"; }

[[ $(id -u) == 0 ]] || { echo "[setup] run as root: CRIU needs it" >&2; exit 1; }

# Debian packages: iptables comes with install-criu.sh; perl-base runs the criu restore shim and
# the runc shim; runc and busybox-static (the rootfs of the runc tests' containers) for the runc plugin;
# containerd (and its ctr) for the containerd plugin: its tests start a containerd of their own;
# gcc, libc6-dev and liblz4-dev build the native lz4 codec of the daemon's archives and the streamer's
# shards (against Node's own headers, linking liblz4), libzstd-dev the daemon's zstd codec (libzstd);
# the zstd CLI checks in the codec's tests that archives are standard zstd;
# curl and xz-utils fetch and unpack CRIU's source for its ZDTM tests (install-zdtm.sh).
need=()
for pkg in perl-base lz4 procps runc busybox-static containerd gcc libc6-dev liblz4-dev libzstd-dev zstd curl xz-utils; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if ((${#need[@]})); then
  say "apt-get install ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

say "CRIU"
bash scripts/install-criu.sh
# CRIU's own ZDTM tests that test/src/e2e/zdtm.test.ts runs through cedana, built from criu's Debian source.
bash scripts/install-zdtm.sh

if ! command -v pnpm >/dev/null || [[ $(pnpm --version) != 9.* ]]; then
  say "pnpm 9 (npm install -g pnpm@9)"
  npm install -g pnpm@9 >/dev/null 2>&1
fi

say "pnpm install"
pnpm install --frozen-lockfile --reporter=silent
say "build"
pnpm run --silent build

# The CLI on PATH, run from this checkout: the launcher the build made (scripts/bundle-cli.mjs), which
# starts the CLI's V8 startup snapshot while it fits this node, else the bundle's main.js.
ln -sfn "$ROOT/packages/cli/dist/bundle/cedana" /usr/local/bin/cedana # a link: one shell a start, not two

# First-party plugins, through `cedana plugin install` from the local catalog that the build
# made (no network; --registry '' even if a registry is configured). Unchanged ones are kept.
plugins=$(node -p "require('./packages/cli/catalog/catalog.json').plugins.map((p) => p.plugin).join(' ')")
say "plugins: $plugins"
# shellcheck disable=SC2086 # one word per plugin
cedana plugin install --registry '' $plugins
say "done: $(cedana --version 2>/dev/null || echo cedana) ready"
