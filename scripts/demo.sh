#!/usr/bin/env bash
# The main job end to end on embedded defaults: start the daemon, run a counter
# as a managed job, checkpoint it with lz4, restore it, and show it went on.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

WORK=$(mktemp -d /tmp/cedana-demo.XXXX)
export CEDANA_ADDRESS=$WORK/cedana.sock CEDANA_DB_PATH=$WORK/db CEDANA_CHECKPOINT_DIR=$WORK/checkpoints
say "cedana daemon start (log: $WORK/daemon.log)"
cedana daemon start >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
trap 'cedana job kill demo >/dev/null 2>&1 || true; kill $DAEMON 2>/dev/null || true' EXIT
for _ in $(seq 50); do [[ -S $CEDANA_ADDRESS ]] && break; sleep 0.1; done
cedana daemon check || true

say "cedana run process --jid demo -- <counter>"
cedana run process --jid demo --log "$WORK/demo.log" -- sh -c 'i=0; while :; do i=$((i+1)); echo "count $i"; sleep 0.5; done'
sleep 3
tail -n 2 "$WORK/demo.log"

say "cedana dump job demo --compression lz4"
cedana dump job demo --compression lz4
before=$(tail -n 1 "$WORK/demo.log")
cedana ps

say "cedana restore job demo"
cedana restore job demo
sleep 3
cedana ps

say "the counter went on from '$before':"
grep -A4 -x "$before" "$WORK/demo.log" | head -n 5
last=$(tail -n 1 "$WORK/demo.log" | awk '{print $2}')
first=$(echo "$before" | awk '{print $2}')
if ((last > first)); then echo "OK: count $first -> $last after restore"; else echo "FAILED: count did not go on" >&2; exit 1; fi
cedana job kill demo
