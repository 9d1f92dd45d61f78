#!/usr/bin/env python3
"""revalign and DuckDB side by side on the heaviest stages, same Parquet inputs.

    scripts/duckdb_compare.py [ACCOUNTS] [--shape SHAPE] [--threads N]

Runs `revalign run` on target/bench-data/<ACCOUNTS> (generate it first with
scripts/bench.py) and reads its per-stage times from the manifest; then loads the same
Parquet inputs into DuckDB (from PyPI, in memory, the same thread count) and runs
revalign's own SQL files for the stages below, each materialised as a table like
revalign does (published ones also sorted by their grain and written as zstd Parquet,
as revalign does), with three dialect substitutions (`first_value(x ORDER BY ...)` as an
aggregate is DuckDB's `first(...)`, and so is revalign's `first_by(x, a, b)`, as
`first(x ORDER BY a, b)`; `arrow_cast(NULL, 'Timestamp(...)')` is
`CAST(NULL AS TIMESTAMPTZ)`). The report month is the data's last month, so revalign's
as-of views filter nothing and DuckDB reads the tables directly. Row counts of both
engines are compared; the ratio is revalign time / DuckDB time per stage.
"""
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb

# Stage chains: journeys + rule attribution, funnel cohorts, MRR movements (with the
# helpers they read).
STAGES = [
    "month_spine",
    "attribution_spans",
    "attribution_lead_creation",
    "attribution_journey",
    "attribution_journey_totals",
    "attribution_credit",
    "contact_channel",
    "opportunity_channel",
    "funnel_stage_entries",
    "funnel_monthly",
    "mrr_account_month",
    "mrr_movements",
]
INPUTS = ["accounts", "contacts", "touches", "lifecycle", "opportunities", "subscriptions", "campaigns"]


def duck_sql(sql: str) -> str:
    sql = re.sub(r"\bfirst_by\(([^,()]+),\s*([^,()]+),\s*([^,()]+)\)", r"first(\1 ORDER BY \2, \3)", sql)
    sql = re.sub(r"\bfirst_value\(", "first(", sql)
    sql = re.sub(r"""arrow_cast\((.*?),\s*'Timestamp\(Microsecond, Some\("UTC"\)\)'\)""",
                 r"CAST(\1 AS TIMESTAMPTZ)", sql, flags=re.S)
    return sql


def query_file(stage: str) -> Path:
    """A query's file: queries/<domain>/<stage>.sql or queries/<domain>/helpers/<stage>.sql."""
    return next(Path("queries").rglob(f"{stage}.sql"))


def header(sql: str, key: str):
    for line in sql.splitlines():
        if not line.startswith("--"):
            return None
        if line.startswith(f"-- {key}:"):
            return line.split(":", 1)[1].strip()
    return None


def published(path: Path, sql: str) -> bool:
    return path.parent.name != "helpers" and header(sql, "publish") not in ("false", "no")


def grain(sql: str) -> list:
    return [g.strip() for g in (header(sql, "grain") or "").split(",") if g.strip()]


def main() -> None:
    args = sys.argv[1:]
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 2
    accounts = int(args[0]) if args and args[0].isdigit() else 50000
    shape = args[args.index("--shape") + 1] if "--shape" in args else "demo"
    suffix = "" if shape == "demo" else f"-{shape}"
    data = Path(f"target/bench-data/{accounts}{suffix}")
    out = Path(f"target/bench-out/{accounts}{suffix}-duckdb-compare")
    subprocess.run(["target/release/revalign", "run", "--data", data, "--out", out, "--threads", str(threads)],
                   check=True, stdout=subprocess.DEVNULL)
    manifest = json.loads(next(out.glob("reports/*/manifest.json")).read_text())
    rv_ms = {s["table"]: s["millis"] for s in manifest["stages"]}
    rv_rows = {s["table"]: s["rows"] for s in manifest["stages"]}
    month = manifest["report_month"]

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET TimeZone = 'UTC'")
    started = time.perf_counter()
    for t in INPUTS:
        path = data / f"{t}.parquet"
        con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{path}')")
    load_ms = (time.perf_counter() - started) * 1000
    # `coverage` (what the inputs hold) is revalign's own output: read, not recomputed.
    coverage = next(out.glob("tables/coverage/*/*.parquet"))
    con.execute(f"CREATE TABLE coverage AS SELECT * FROM read_parquet('{coverage}')")
    # The `attribution_models` reference table (src/config.rs ATTRIBUTION_MODELS).
    con.execute(
        "CREATE TABLE attribution_models AS SELECT * FROM (VALUES "
        + ", ".join(f"('{m}', '{'channel' if m == 'markov' else 'rule'}')" for m in [
            "first_touch", "lead_creation", "last_touch", "linear", "time_decay",
            "position_based", "w_shaped", "full_path", "markov"])
        + ") AS t(model, kind)"
    )
    p = manifest["params"]
    y, m = map(int, month.split("-"))
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    con.execute(
        f"""CREATE TABLE params AS SELECT
            DATE '{month}-01' AS report_month,
            TIMESTAMPTZ '{month}-01 00:00:00+00' AS report_start,
            TIMESTAMPTZ '{ny}-{nm:02d}-01 00:00:00+00' AS report_end,
            DATE '{ny}-{nm:02d}-01' AS report_end_date,
            {p['lookback_days']}::BIGINT AS lookback_days,
            {p['followup_window_days']}::BIGINT AS followup_window_days,
            {p['conversion_window_days']}::BIGINT AS conversion_window_days,
            {str(p['include_sales_touches']).lower()} AS include_sales_touches,
            '{p['path_transform']}' AS path_transform,
            {p['half_life_days']}::DOUBLE AS half_life_days,
            {p['position_first']}::DOUBLE AS position_first,
            {p['position_middle']}::DOUBLE AS position_middle,
            {p['position_last']}::DOUBLE AS position_last,
            {p['w_shaped_milestone']}::DOUBLE AS w_shaped_milestone,
            {p['full_path_milestone']}::DOUBLE AS full_path_milestone,
            {p['sla_hours']}::DOUBLE AS sla_hours"""
    )
    print(f"DuckDB {duckdb.__version__}, {threads} threads; input load {load_ms:.0f} ms "
          f"(revalign load {manifest['timings_ms']['load']} ms, includes validation)")
    print("| stage | rows | revalign ms | DuckDB ms | revalign / DuckDB |")
    print("|---|---|---|---|---|")
    totals = [0, 0]
    for stage in STAGES:
        path = query_file(stage)
        sql = duck_sql(path.read_text())
        started = time.perf_counter()
        con.execute(f"CREATE TABLE {stage} AS {sql}")
        if published(path, sql):
            # revalign's stage time includes sorting a published table by its grain and
            # writing it as zstd Parquet: DuckDB does the same here.
            target = out / f"duckdb-{stage}.parquet"
            con.execute(f"COPY (SELECT * FROM {stage} ORDER BY {', '.join(grain(sql))}) "
                        f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        duck_ms = (time.perf_counter() - started) * 1000
        rows = con.execute(f"SELECT COUNT(*) FROM {stage}").fetchone()[0]
        same = "" if rows == rv_rows[stage] else f" (revalign {rv_rows[stage]} rows!)"
        totals[0] += rv_ms[stage]
        totals[1] += duck_ms
        print(f"| {stage} | {rows:,}{same} | {rv_ms[stage]:,} | {duck_ms:,.0f} | {rv_ms[stage] / duck_ms:.2f} |")
    print(f"| total | | {totals[0]:,} | {totals[1]:,.0f} | {totals[0] / totals[1]:.2f} |")


if __name__ == "__main__":
    main()
