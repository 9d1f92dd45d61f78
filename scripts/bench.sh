#!/usr/bin/env bash
# Benchmark the full monthly run on generated data at a given scale.
#   scripts/bench.sh ACCOUNTS [RUN_FLAGS...]
# Generates (once, cached in target/bench-data/ACCOUNTS) and runs `revalign run` with
# /usr/bin/time, then prints wall time, peak RSS and the per-stage timings from the
# manifest. Build first: cargo build --release.
set -euo pipefail
accounts=${1:-2000}
shift || true
data="target/bench-data/$accounts"
out="target/bench-out/$accounts"
bin=target/release/revalign
if [ ! -d "$data" ]; then
  "$bin" generate --out "$data" --accounts "$accounts"
fi
rm -rf "$out"
/usr/bin/time -v "$bin" run --data "$data" --out "$out" "$@" 2> target/bench-time.txt >/dev/null
grep -E "Elapsed|Maximum resident" target/bench-time.txt
python3 - "$out" <<'PY'
import json, sys, glob
m = json.load(open(glob.glob(sys.argv[1] + "/reports/*/manifest.json")[0]))
print("phases (ms):", m["timings_ms"])
for s in sorted(m["stages"], key=lambda s: -s["millis"]):
    print(f"  {s['table']:<28} {s['millis']:>7} ms  rows {s['rows']}")
PY
