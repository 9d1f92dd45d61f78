#!/usr/bin/env python3
"""Benchmark the full monthly job on generated data at named scales.

    scripts/bench.py SCALE [--shape SHAPE] [--runs N] [--name NAME] [-- RUN_FLAGS...]

SCALE is `demo` (2,000 accounts, ~0.39M touches), `1m` (5,000 accounts, ~1M touches),
`10m` (about 10M touches: 50,000 accounts of the demo shape, or as many accounts as
give 10M touches in SHAPE) or a number of accounts. SHAPE is a `revalign generate
--shape` (demo, long_journeys, wide_accounts, many_channels). The data is generated
once with `revalign generate` and cached in target/bench-data/<accounts>[-<shape>]; each run is
`/usr/bin/time -v revalign run --data ... --out target/bench-out/<accounts>`. Results
(wall time and peak RSS per run, the manifest's phases and per-stage milliseconds) go
to target/bench-results/<scale>[-NAME].json and a summary (median of the runs) is printed as
a Markdown table row for docs/benchmarks.md. Build first: cargo build --release.
"""
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

SCALES = {"demo": 2000, "1m": 5000, "10m": 50000}
# Accounts that give about 10M touches in each shape (touches per account: demo 197,
# long_journeys 240, wide_accounts 157, many_channels 200).
TEN_M = {"demo": 50000, "long_journeys": 42000, "wide_accounts": 64000, "many_channels": 50000}
BIN = Path("target/release/revalign")


def main() -> None:
    args = sys.argv[1:]
    run_flags = []
    if "--" in args:
        i = args.index("--")
        args, run_flags = args[:i], args[i + 1 :]
    if not args:
        sys.exit(__doc__)
    scale = args[0]
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 3
    shape = args[args.index("--shape") + 1] if "--shape" in args else "demo"
    accounts = TEN_M[shape] if scale == "10m" else SCALES.get(scale) or int(scale)
    suffix = "" if shape == "demo" else f"-{shape}"
    data = Path(f"target/bench-data/{accounts}{suffix}")
    out = Path(f"target/bench-out/{accounts}{suffix}")
    if not data.exists():
        subprocess.run(
            [BIN, "generate", "--out", data, "--accounts", str(accounts), "--shape", shape],
            check=True,
        )
    results = []
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        p = subprocess.run(
            ["/usr/bin/time", "-v", BIN, "run", "--data", data, "--out", out, *run_flags],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if p.returncode != 0:
            sys.exit(p.stderr)
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", p.stderr).group(1)
        parts = [float(x) for x in wall.split(":")]
        wall_s = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
        manifest = json.loads(next(out.glob("reports/*/manifest.json")).read_text())
        results.append(
            {
                "wall_s": wall_s,
                "peak_rss_mb": rss_kb / 1024,
                "phases_ms": manifest["timings_ms"],
                "stages_ms": {s["table"]: s["millis"] for s in manifest["stages"]},
                "input_rows": sum(t["rows_read"] for t in manifest["inputs"].values()),
                "touches": manifest["inputs"]["touches"]["rows_read"],
                "credit_rows": next(
                    (o["rows"] for o in manifest["outputs"] if o["table"] == "attribution_credit"), 0
                ),
            }
        )
    median = lambda key: statistics.median(r[key] for r in results)  # noqa: E731
    stages = {
        name: statistics.median(r["stages_ms"][name] for r in results)
        for name in results[0]["stages_ms"]
    }
    summary = {
        "scale": scale,
        "shape": shape,
        "accounts": accounts,
        "runs": runs,
        "run_flags": run_flags,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "input_rows": results[0]["input_rows"],
        "touches": results[0]["touches"],
        "credit_rows": results[0]["credit_rows"],
        "median_wall_s": median("wall_s"),
        "median_peak_rss_mb": median("peak_rss_mb"),
        "median_stages_ms": dict(sorted(stages.items(), key=lambda kv: -kv[1])),
        "runs_detail": results,
    }
    name = f"-{args[args.index('--name') + 1]}" if "--name" in args else suffix
    dest = Path(f"target/bench-results/{scale}{name}.json")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(summary, indent=2))
    walls = ", ".join(f"{r['wall_s']:.1f}" for r in results)
    print(
        f"| {scale} {shape} ({accounts:,} accounts) | {summary['input_rows']:,} ({summary['touches']:,} touches) "
        f"| {summary['credit_rows']:,} | {summary['median_wall_s']:.1f} s (runs: {walls}) | {summary['median_peak_rss_mb']:,.0f} MB |"
    )
    for name, ms in list(summary["median_stages_ms"].items())[:12]:
        print(f"  {name:<28} {ms:>8.0f} ms")
    print(f"results: {dest}")


if __name__ == "__main__":
    main()
