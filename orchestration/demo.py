"""``make demo``: the whole pipeline on the embedded default, with real Airflow, Spark, TensorFlow, Delta and MLflow.

1. generate the synthetic job-seeker dataset (``--users`` × ``--days``, seed ``--seed``) into the data root;
2. history: every day but the last two written straight into ``clean_events`` (the synthetic rows are valid by
   construction; a real deployment backfills these days with the daily DAG, whose ingest validates them);
3. an embedded Airflow: SQLite metadata in ``<out>/airflow`` (``airflow db migrate``), this project's DAGs;
4. the training DAG (``airflow dags test jobtrail_training``): examples over the history, the chosen aggregator
   and the baselines, the promotion gate (the first model becomes ``champion``);
5. the daily DAG for the last two days (``airflow dags test jobtrail_daily_embeddings``): ingest, side table
   with the champion's vocabulary, inference inputs, batch inference, monitoring, publish;
6. a summary: the feature table, rows per day, the model's validation metrics next to the baselines', the
   monitoring figures, and how to query the table from Spark SQL and from pandas.

Spark steps run through ``spark-submit`` on ``local[2]``; every task's log is under ``<out>/airflow/logs`` and
each DAG run's full output in ``<out>/logs``.

    python -m orchestration.demo --out data/demo [--users 2000 --days 30 --aggregator transformer --epochs 10 --batch-size 64]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jobtrail.argtypes import seed
from jobtrail.contracts import RAW_EVENT, Tables, with_partition
from jobtrail.errors import JobtrailError
from jobtrail.knobs import AGGREGATORS, BATCH_SIZE, EPOCHS, WINDOW
from jobtrail.settings import Settings

MARKER = ".jobtrail-demo"


def _clock(started: float) -> str:
    seconds = time.perf_counter() - started
    return f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


def prepare(out: Path, keep: bool) -> None:
    """Start from an empty demo folder; refuse to delete a folder this demo did not create."""
    if out.exists() and any(out.iterdir()) and not keep:
        if not (out / MARKER).exists():
            raise JobtrailError(f"{out} exists and was not made by the demo (no {MARKER}): choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by python -m orchestration.demo; deleted and rebuilt by the next run\n")


def load_history(data_root: Path, last_day: date) -> int:
    """Write the raw events up to ``last_day`` into ``clean_events`` (Delta, by ``ds``) without Spark."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as pads
    from deltalake import write_deltalake

    schema = with_partition(RAW_EVENT)
    table = pads.dataset(data_root / Tables.RAW_EVENTS, partitioning="hive").to_table()
    table = table.set_column(table.schema.get_field_index("ds"), "ds", pc.cast(table["ds"], pa.date32()))
    table = table.filter(pc.field("ds") <= pa.scalar(last_day, pa.date32())).select(schema.names).cast(schema)
    write_deltalake(str(data_root / Tables.CLEAN_EVENTS), table, partition_by=["ds"], mode="overwrite")
    return table.num_rows


def feature_rows_per_day(table: Path) -> list[tuple[str, str, str, int, int]]:
    """(as_of_date, model, version, rows, fallback rows) of every partition of the feature table."""
    from deltalake import DeltaTable

    rows = DeltaTable(str(table)).to_pyarrow_table(columns=["as_of_date", "model_name", "model_version", "is_fallback"])
    counts: dict[tuple, list[int]] = {}
    for day, name, version, fallback in zip(*(rows.column(c).to_pylist() for c in rows.column_names)):
        entry = counts.setdefault((str(day), name, str(version)), [0, 0])
        entry[0] += 1
        entry[1] += int(bool(fallback))
    return [(*key, n, f) for key, (n, f) in sorted(counts.items())]


def monitoring_rows(data_root: Path) -> list[dict[str, Any]]:
    from deltalake import DeltaTable

    table = DeltaTable(str(data_root / Tables.MONITORING)).to_pyarrow_table()
    return sorted(table.to_pylist(), key=lambda r: (str(r["as_of_date"]), r["model_version"]))


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it (copy-pasteable from the repo root)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _f(value: Any, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def summary(data_root: Path, report: dict[str, Any], days: list[date]) -> str:
    table = data_root / Tables.FEATURE_TABLE
    lines = ["", "=" * 100, "jobtrail demo — summary", "=" * 100,
             f"feature table (Delta, partitioned by as_of_date): {table.resolve()}", "",
             "rows per day:", "  as_of_date  model                       version   rows  fallback"]
    for day, name, version, n, fallback in feature_rows_per_day(table):
        lines.append(f"  {day}  {name:<27} {version:>7} {n:>6} {fallback:>9}")
    promotion = report.get("promotion", {})
    lines += ["", f"model: {report['aggregator']} registered as {report['model_name']} v{report['model_version']}, "
              f"trained on {report['start']}..{report['end']}, validation targets from {report['valid_from']}",
              f"promotion gate: promoted={promotion.get('promoted')} ({promotion.get('reason')})", "",
              "validation (same split for every model):", report["table"], "",
              "monitoring (one row per published partition):",
              "  as_of_date  status  rows  scored  carried  cold  coverage  nan  norm_p50  cos_median  fallback_share  "
              "sample_cos_p50  top10_distinct"]
    for row in monitoring_rows(data_root):
        lines.append(f"  {row['as_of_date']}  {row['status']:<6} {row['rows']:>5} {row['users_scored']:>7} "
                     f"{row['carried_forward']:>8} {row['cold_start']:>5} {_f(row['coverage'], 3):>9} "
                     f"{row['nan_rows']:>4} {_f(row['norm_p50'], 3):>9} {_f(row['cos_median_checked'], 3):>11} "
                     f"{_f(row['fallback_share'], 3):>15} {_f(row.get('sample_cos_p50'), 3):>15} "
                     f"{_f(row.get('top10_distinct'), 0):>15}")
    as_of = (days[-1] + timedelta(days=1)).isoformat()
    root = data_root.resolve()
    bin_dir = _shown(Path(sys.executable).parent)
    conf = _shown(Settings.from_env().cache_dir / "spark-conf" / "spark-defaults.conf")
    lines += [
        "", "query it:",
        f"  Spark SQL: PYSPARK_PYTHON={bin_dir}/python {bin_dir}/spark-sql --properties-file {conf} -e 'SELECT "
        f"user_id, n_events, is_fallback, slice(embedding, 1, 4) FROM delta.`{table.resolve()}` WHERE as_of_date = "
        f"\"{as_of}\" ORDER BY user_id LIMIT 5'",
        f"  pandas:    {bin_dir}/python -c \"from feature_store.readers import read_pandas; import datetime as d; "
        f"print(read_pandas('{table.resolve()}', as_of_date=d.date.fromisoformat('{as_of}')).head())\"",
        "", f"tables under {root}: raw_events, clean_events, quarantine_events, timelines, job_side_table, "
        f"inference_inputs, user_embeddings, embedding_monitoring; MLflow store {root / 'mlflow'}",
    ]
    return "\n".join(lines)


def pandas_sample(table: Path, as_of: date) -> str:
    from feature_store.readers import read_pandas

    df = read_pandas(table, as_of_date=as_of)
    df = df.assign(embedding=df["embedding"].map(lambda v: "[" + ", ".join(f"{x:.3f}" for x in v[:4]) + ", …]"))
    return df[["user_id", "as_of_date", "model_version", "n_events", "is_fallback", "embedding"]].head(3).to_string()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/demo"))
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=seed, default=7, help="the synthetic data's seed")
    parser.add_argument("--aggregator", choices=AGGREGATORS, default="transformer")
    parser.add_argument("--baselines", default="mean,decay", help="comma-separated, from mean,decay ('' for none)")
    parser.add_argument("--epochs", type=EPOCHS.argtype(), default=10, help=f"{EPOCHS.meaning} (default 10)")
    parser.add_argument("--batch-size", type=BATCH_SIZE.argtype(), default=64,
                        help="the demo's ~1,100 training sequences need small batches to get enough steps")
    WINDOW.add_to(parser)
    parser.add_argument("--keep", action="store_true", help="reuse --out instead of starting from scratch")
    args = parser.parse_args(argv)
    if args.days < 8:
        parser.error("--days must be at least 8 (history, validation days and two daily runs)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate
    from orchestration.embedded import airflow_env, dags_test, migrate

    started = time.perf_counter()
    out = args.out
    try:
        prepare(out, args.keep)
    except JobtrailError as e:
        print(f"demo: {e}", file=sys.stderr)
        return 2
    data_root, logs = out / "data", out / "logs"
    config = GeneratorConfig(users=args.users, days=args.days, seed=args.seed)
    counts = generate(config, data_root)
    first = config.start
    last = first + timedelta(days=args.days - 1)
    daily_days = [last - timedelta(days=1), last]
    history_end = daily_days[0] - timedelta(days=1)
    print(f"[1/6] synthetic data: {counts[Tables.RAW_EVENTS]:,} events of {args.users:,} users, {first}..{last}, "
          f"seed {args.seed} → {data_root}  ({_clock(started)})", flush=True)

    rows = load_history(data_root, history_end)
    print(f"[2/6] history {first}..{history_end}: {rows:,} events into {Tables.CLEAN_EVENTS} "
          f"(synthetic rows are valid by construction; the daily DAG ingests the last two days)  ({_clock(started)})",
          flush=True)

    env = airflow_env(out / "airflow", data_root)
    migrate(env, log=logs / "airflow-db-migrate.log")
    print(f"[3/6] Airflow metadata (SQLite) in {out / 'airflow'}; DAGs from dags/  ({_clock(started)})", flush=True)

    valid_from = history_end - timedelta(days=7)  # a week of validation horizon: enough users for the gate
    baselines = [b for b in args.baselines.split(",") if b]
    conf = {"start": first.isoformat(), "end": history_end.isoformat(), "valid_from": valid_from.isoformat(),
            "aggregator": args.aggregator, "window": args.window, "epochs": args.epochs,
            "batch_size": args.batch_size, "baselines": baselines}
    print(f"[4/6] training DAG: airflow dags test jobtrail_training --conf '{json.dumps(conf)}'", flush=True)
    try:
        took = dags_test("jobtrail_training", conf, env, log=logs / "jobtrail_training.log")
        print(f"      succeeded in {took:.0f}s; log {logs / 'jobtrail_training.log'}  ({_clock(started)})", flush=True)
        for step, day in enumerate(daily_days, start=5):
            daily_conf = {"ds": day.isoformat()}
            log = logs / f"jobtrail_daily_embeddings_{day}.log"
            print(f"[{step}/6] daily DAG for ds={day} (embeddings as of {day + timedelta(days=1)}): "
                  f"airflow dags test jobtrail_daily_embeddings --conf '{json.dumps(daily_conf)}'", flush=True)
            took = dags_test("jobtrail_daily_embeddings", daily_conf, env, log=log)
            print(f"      succeeded in {took:.0f}s; log {log}  ({_clock(started)})", flush=True)
    except JobtrailError as e:
        print(f"demo: {e}\n      each task's log: {out / 'airflow' / 'logs'}", file=sys.stderr)
        return 1

    reports = sorted((data_root / "models").glob("*/*/report.json"), key=lambda p: p.stat().st_mtime)
    report = json.loads(reports[-1].read_text())
    print(summary(data_root, report, daily_days))
    print("\npandas (the line above, run):")
    print(pandas_sample(data_root / Tables.FEATURE_TABLE, daily_days[-1] + timedelta(days=1)))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\ndemo finished in {_clock(started)} (generate, history, Airflow set-up, 3 DAG runs) on "
          f"{os.cpu_count()} cores; load average at the end {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
