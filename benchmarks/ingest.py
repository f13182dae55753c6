"""Benchmark: a history ingested as one range against one ingest run per day, and a long small export.

    python -m benchmarks.ingest                      # 610,000 users × 30 days ≈ 10.1M events + a 189-day export
    python -m benchmarks.ingest --users 20000        # a quick run

Side by side, in one run on the same master (``local[2]``):

- **per day**: today's way of loading a history — ``ingest --ds D`` for each of the 30 days, all in one Spark
  session (no JVM start per day; one ``spark-submit`` per day would add ~10 s each);
- **range**: one ``spark-submit spark_jobs/ingest.py --start D1 --end D2 --input raw_events/`` (the
  ``ds=`` folders), JVM start included;
- **export**: a 189-day CSV export of ~19k events in one file, as a platform hands it over (renamed columns,
  epoch milliseconds, its own event-type spellings, a mapping file), range-ingested through ``spark-submit``.

Regenerates the section "Ingest: a history in one range" of docs/benchmarks.md and ``ingest`` in
docs/benchmarks.json (``range_s``, ``per_day_total_s``, ``events``, ``days``, ``export_s``, ``export_events``,
``export_days``), with the machine's load before and after.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from benchmarks.pipeline import START, ensure_input
from benchmarks.report import BENCH_USERS, load_average, machine, write_json, write_section
from jobtrail.settings import Settings
from jobtrail.tables import Tables
from orchestration.spark import application_path

EXPORT_DAYS = 189
EXPORT_USERS = 200
"""Users of the long export: ~19,000 events over 189 days with the synthetic generator's activity."""
EXPORT_COLUMNS = {"event_id": "id", "user_id": "member", "event_type": "action", "job_id": "posting",
                  "query": "search_text", "channel": "source", "ts": "time_ms"}
EXPORT_SPELLINGS = {"save": "bookmark", "dismiss": "delete", "apply": "applied"}
NOW = "2030-01-01T00:00:00"


def spark_submit(args: list[str]) -> float:
    """Seconds of ``spark-submit spark_jobs/ingest.py ARGS`` (local[2], the settings' driver memory)."""
    settings = Settings.from_env()
    binary = shutil.which("spark-submit") or str(Path(sys.executable).parent / "spark-submit")
    command = [binary, "--master", settings.spark_master, "--driver-memory", settings.driver_memory,
               application_path("ingest"), *args]
    t = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - t


def per_day(data: Path, work: Path, days: int) -> float:
    """Seconds of ``days`` single-day ingest runs in one session (run in a child process)."""
    from spark_jobs import ingest
    from spark_jobs.session import create_session

    spark = create_session("jobtrail-bench-ingest")
    t = time.perf_counter()
    for i in range(days):
        day = START + timedelta(days=i)
        ingest.run(spark, ingest.parse_args(["--ds", str(day), "--input", str(data / f"ds={day}"), "--now", NOW,
                                             "--data-root", str(work)]))
    seconds = time.perf_counter() - t
    spark.stop()
    return seconds


def clean_count(work: Path) -> int:
    """Rows of the clean events table in its current version (deltalake: no Spark session in the parent)."""
    from deltalake import DeltaTable

    return DeltaTable(str(work / Tables.CLEAN_EVENTS)).to_pyarrow_dataset().count_rows()


def make_export(folder: Path) -> tuple[Path, Path, int]:
    """A 189-day synthetic history written as one platform-style CSV file + its mapping; (csv, mapping, rows)."""
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate

    generate(GeneratorConfig(users=EXPORT_USERS, days=EXPORT_DAYS, seed=3), folder / "synthetic")
    import pyarrow.dataset as ds

    events = ds.dataset(folder / "synthetic" / Tables.RAW_EVENTS, format="parquet", partitioning="hive").to_table()
    spelled = events["event_type"]
    for ours, theirs in EXPORT_SPELLINGS.items():
        spelled = pc.if_else(pc.equal(spelled, ours), theirs, spelled)
    millis = pc.divide(pc.cast(events["ts"], pa.int64()), 1000)
    columns = {EXPORT_COLUMNS[c]: (millis if c == "ts" else spelled if c == "event_type" else events[c])
               for c in EXPORT_COLUMNS}
    path = folder / "export" / "history.csv"
    path.parent.mkdir(parents=True)
    pcsv.write_csv(pa.table(columns), path)
    mapping = folder / "mapping.json"
    mapping.write_text(json.dumps({
        "format": "csv", "epoch_unit": "ms",
        "columns": {theirs: ours for ours, theirs in EXPORT_COLUMNS.items()},
        "event_types": {theirs: ours for ours, theirs in EXPORT_SPELLINGS.items()},
    }))
    return path, mapping, events.num_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=BENCH_USERS)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", nargs=2, metavar=("DATA", "WORK"), help=argparse.SUPPRESS)  # the child run
    args = parser.parse_args(argv)
    if args.per_day:
        print("RESULT " + json.dumps(per_day(Path(args.per_day[0]), Path(args.per_day[1]), args.days)), flush=True)
        return 0

    load_before = load_average()
    raw = ensure_input(args.users, args.days) / Tables.RAW_EVENTS
    end = START + timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory(dir=Settings.from_env().cache_dir) as tmp:
        work = Path(tmp)
        proc = subprocess.run([sys.executable, "-m", "benchmarks.ingest", "--days", str(args.days),
                               "--per-day", str(raw), str(work / "per_day")], check=True, capture_output=True, text=True)
        per_day_s = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
        events = clean_count(work / "per_day")
        range_s = spark_submit(["--start", str(START), "--end", str(end), "--input", str(raw), "--now", NOW,
                                "--data-root", str(work / "range")])
        range_events = clean_count(work / "range")
        if range_events != events:
            raise SystemExit(f"the range run wrote {range_events} clean events, the per-day runs {events}")
        export, mapping, export_events = make_export(work / "long")
        export_end = START + timedelta(days=EXPORT_DAYS - 1)
        export_s = spark_submit(["--start", str(START), "--end", str(export_end), "--input", str(export),
                                 "--mapping", str(mapping), "--now", NOW, "--data-root", str(work / "long" / "tables")])
        export_clean = clean_count(work / "long" / "tables")
    load_after = load_average()
    result = {
        "command": f"python -m benchmarks.ingest --users {args.users} --days {args.days}",
        "machine": machine(), "master": Settings.from_env().spark_master, "load_before": load_before,
        "load_after": load_after, "events": events, "days": args.days, "range_s": round(range_s, 1),
        "per_day_total_s": round(per_day_s, 1), "ratio": round(range_s / per_day_s, 3),
        "export_events": export_events, "export_clean": export_clean, "export_days": EXPORT_DAYS,
        "export_s": round(export_s, 1),
    }
    print(json.dumps(result), flush=True)
    write_json("ingest", result)
    write_section(
        "Ingest: a history in one range",
        f"Command: `{result['command']}` on {result['machine']}, Spark `{result['master']}`, "
        f"{load_before} before, {load_after} after. Per day: {args.days} runs of `ingest --ds D` in one Spark session "
        "(JVM start excluded); range: one `spark-submit spark_jobs/ingest.py --start D1 --end D2` over the `ds=` "
        "folders (JVM start included), one commit per table. Export: one CSV file of a 189-day history "
        "(renamed columns, epoch ms, `bookmark`/`delete`/`applied`), range-ingested through `spark-submit` with a "
        "mapping.\n\n"
        "| run | events | days | seconds | events/s | range ÷ per day |\n|---|---|---|---|---|---|\n"
        f"| per day ({args.days} runs) | {events:,} | {args.days} | {per_day_s:.1f} | {events / per_day_s:,.0f} | |\n"
        f"| range (1 run) | {events:,} | {args.days} | {range_s:.1f} | {events / range_s:,.0f} | "
        f"{range_s / per_day_s:.2f} |\n"
        f"| 189-day CSV export (1 run) | {export_events:,} ({export_clean:,} clean) | {EXPORT_DAYS} | "
        f"{export_s:.1f} | {export_events / export_s:,.0f} | |",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
