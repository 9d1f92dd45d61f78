#!/usr/bin/env bash
# Run the monthly report on a real Apache DataFusion Ballista cluster on this machine:
# one scheduler (the crates.io binary) and two executors (`revalign executor`: the
# crates.io ballista-executor 55.0 lacks DataFusion's array functions) on loopback,
# stopped again at the end.
#
#   scripts/ballista-local.sh [REVALIGN RUN FLAGS...]      (default: the demo data)
#   scripts/ballista-local.sh --data target/bench-data/5000 --out out-ballista
#
# The first call installs ballista-scheduler (the version that matches revalign's
# DataFusion) into target/ballista with `cargo install`; that builds DataFusion once
# more (25+ minutes on 2 cores). Set BALLISTA_ROOT to use a scheduler installed
# elsewhere (BALLISTA_ROOT/bin/ballista-scheduler).
# Logs and the exchange folder (the tables revalign hands to the executors) live in a
# temporary folder, kept when the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=55.0.0
ROOT=${BALLISTA_ROOT:-target/ballista}
PORT=${BALLISTA_PORT:-50050}
HOST=127.0.0.1

if [[ ! -x $ROOT/bin/ballista-scheduler ]]; then
    echo "installing ballista-scheduler $VERSION into $ROOT" >&2
    CARGO_TARGET_DIR=$ROOT/build cargo install --root "$ROOT" "ballista-scheduler@$VERSION"
fi
cargo build --release --quiet

WORK=$(mktemp -d -t revalign-ballista-XXXXXX)
ok=0
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
    if [[ $ok == 1 ]]; then rm -rf "$WORK"; else echo "logs kept in $WORK" >&2; fi
}
trap cleanup EXIT

wait_for_port() { # PORT: until something listens on HOST:PORT (30 s at most)
    for _ in $(seq 300); do
        (echo >/dev/tcp/$HOST/$1) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on $HOST:$1; see $WORK" >&2
    return 1
}

"$ROOT/bin/ballista-scheduler" --bind-host $HOST --external-host $HOST --bind-port "$PORT" \
    >"$WORK/scheduler.log" 2>&1 &
wait_for_port "$PORT"
for i in 1 2; do
    base=$((PORT + 10 * i))
    mkdir -p "$WORK/executor-$i"
    target/release/revalign executor --bind-host $HOST \
        --bind-port $((base + 1)) --bind-grpc-port $((base + 2)) \
        --scheduler-host $HOST --scheduler-port "$PORT" \
        --work-dir "$WORK/executor-$i" --vcores 1 \
        >"$WORK/executor-$i.log" 2>&1 &
    wait_for_port $((base + 1))
done
echo "Ballista on $HOST:$PORT with 2 executors (logs: $WORK)" >&2

mkdir -p "$WORK/exchange"
target/release/revalign run --engine ballista --scheduler "df://$HOST:$PORT" \
    --exchange-dir "$WORK/exchange" "$@"
ok=1
