#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: setup, lint, then every unit and
# end-to-end test (real daemon, real CRIU, real processes) in one run of node's
# test runner.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[test] lint"
pnpm exec biome check .
echo "[test] node --test"
shopt -s globstar nullglob # node 20's --test takes no globs of its own
exec node --test --test-reporter=spec --test-timeout=300000 \
  packages/*/dist/**/*.test.js plugins/*/dist/**/*.test.js examples/*/dist/**/*.test.js test/dist/**/*.test.js
