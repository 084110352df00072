#!/usr/bin/env bash
# Regenerates the ts-proto code of packages/core from its .proto files.
set -euo pipefail
cd "$(dirname "$0")/../packages/core"
rm -rf src/proto/gen
../../node_modules/.bin/buf generate
../../node_modules/.bin/buf generate --template buf.gen.criu.yaml
echo "generated: $(find src/proto/gen -name '*.ts' | sort | tr '\n' ' ')"
