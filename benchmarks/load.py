"""Load: the real daily DAG on the 10-million-event synthetic set, on this machine — time and peak memory.

    python -m benchmarks.load            # or: make load   (610,000 users × 30 days ≈ 10.1M events, seed 7)
    python -m benchmarks.load --users 20000 --doc /tmp/reliability.md   # a quick run of the same steps

1. the synthetic dataset (``benchmarks.report.dataset_dir``; generated once, as ``benchmarks.pipeline`` does);
2. a fresh data root ``.cache/bench/load/data`` (the folder is wiped first): ``raw_events`` and ``job_catalog``
   hard-linked from the dataset (the DAG refuses symlinks that leave the data root), days 1..N−1 written
   straight into ``clean_events`` (:func:`orchestration.demo.load_history`, in a child process);
3. an embedded Airflow (SQLite, ``orchestration.embedded``) and a champion made cheaply and honestly:
   the real training DAG on the last ``--train-days`` days of the history (``--aggregator``, 1 epoch, stride 4,
   no baselines) — its time is reported separately, it is not what is measured;
4. a first daily run for ``ds`` − 1 (``incremental``: true; reported, not measured): it builds the per-user state
   from the whole history (no snapshot exists yet) and computes every user's embedding, as a new deployment's
   first day does;
5. **measured**: the real daily DAG (``airflow dags test``, a manual run without a logical date, ``incremental``:
   true) for ``ds`` = the last day, in the steady state — the state folds that one day, inference recomputes the
   users with new events and carries the others forward. Each task's seconds come from its task instance
   (start → end) in the metadata DB; memory is the summed resident memory of this process tree (Airflow, every
   ``spark-submit`` JVM, Python workers), sampled every 0.5 s, overall and per task.

Writes the section "Load: the daily DAG on 10 million events" of docs/reliability.md (another ``--days``: its own
section, "…, 90 days of history"), both runs as ``daily.runs`` in docs/benchmarks.json (``kind``, ``history_days``,
``events``, ``users``, ``active_users``, ``seconds``, ``tasks``, the commit; the rows of other history lengths are
kept, and ``daily.history_cost`` compares the steady day across them) and a JSON copy at
``.cache/bench/load/result.json`` (``load_d<days>`` for other lengths); prints them. Exit status 1 when a DAG run
fails (the partial figures are written all the same).

    python -m benchmarks.load --earlier-days 60   # the same day after 90 days of history (60 more days, generated once)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psutil

from benchmarks.load_figures import daily_rows, figures, gib, history_cost, latest_run, merged_runs, peak_between
from benchmarks.load_report import render, spark_memory
from benchmarks.report import (
    BENCH_USERS,
    RELIABILITY_DOC,
    RELIABILITY_HEADER,
    PeakMemory,
    machine,
    write_json,
    write_section,
)
from jobtrail.settings import Settings
from jobtrail.tables import Tables

SECTION = "Load: the daily DAG on 10 million events"
DAILY_DAG, TRAINING_DAG = "jobtrail_daily_embeddings", "jobtrail_training"
JAVA_OPTIONS = "-Duser.timezone=UTC"
DEFAULT_DAYS = 30
EARLIER_SEED = 8
"""Seed of the earlier history (``--earlier-days``): the generator keys event ids by (seed, user, n), so another
seed keeps them distinct from the dataset's."""


def section_title(days: int) -> str:
    """The default history's section is :data:`SECTION`; another length gets its own section beside it."""
    return SECTION if days == DEFAULT_DAYS else f"{SECTION}, {days} days of history"


def work_folder(days: int) -> str:
    """``.cache/bench/<this>``: each history length keeps its own (wiped only by a run of the same length)."""
    return "load" if days == DEFAULT_DAYS else f"load_d{days}"


def stage_inputs(datasets: list[Path], root: Path) -> None:
    """Hard-link (copy where links fail) the raw events and the catalogue of each dataset (their ``ds=`` days side by
    side) into the data root."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    for data in datasets:
        for name in (Tables.RAW_EVENTS, Tables.JOB_CATALOG):
            shutil.copytree(data / name, root / name, copy_function=link, dirs_exist_ok=True)


def history_child(root: Path, last_day: date, log: Path) -> dict[str, Any]:
    """:func:`orchestration.demo.load_history` in a child process (its Arrow memory leaves with it); rows, s, peak."""
    started = time.perf_counter()
    with PeakMemory() as mem, log.open("w") as out:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.load", "--history", str(root), last_day.isoformat()],
                              stdout=subprocess.PIPE, stderr=out, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"loading the history failed (exit {proc.returncode}); see {log}")
    rows = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])["rows"]
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 1), "peak_rss_gib": gib(mem.peak_bytes)}


def _commit() -> str | None:
    """The checked-out commit measured (each row of ``daily.runs`` says which)."""
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent)
    return proc.stdout.strip() or None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=BENCH_USERS)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="days of the dataset (history + the 2 daily runs)")
    parser.add_argument("--earlier-days", type=int, default=0,
                        help="more history before the dataset: a dataset of the same users and this many days "
                             f"(seed {EARLIER_SEED}, generated once) staged in front, so the measured day is the same")
    parser.add_argument("--out", type=Path, default=None,
                        help="work folder, wiped first (default .cache/bench/load, load_d<days> for other --days)")
    parser.add_argument("--doc", type=Path, default=RELIABILITY_DOC)
    parser.add_argument("--train-days", type=int, default=3, help="days of history the champion is trained on")
    parser.add_argument("--aggregator", default="mean")
    parser.add_argument("--history", nargs=2, metavar=("ROOT", "LAST_DAY"), help=argparse.SUPPRESS)  # child
    args = parser.parse_args(argv)
    if not args.history and (args.days < 3 or not 1 <= args.train_days < args.days - 1):
        parser.error("need --days >= 3 and 1 <= --train-days < --days - 1 (the last two days are the daily runs')")
    return args


def _command(argv: list[str] | None) -> str:
    """The command line as run (with its niceness), for the report."""
    command = "python -m benchmarks.load" + ("" if argv is None and len(sys.argv) == 1 else
                                             " " + " ".join(sys.argv[1:] if argv is None else argv))
    return f"nice -n {os.nice(0)} {command}" if os.nice(0) > 0 else command


def _dag_run(dag_id: str, conf: dict[str, Any], env: dict[str, str], db: Path, log: Path, into: dict[str, Any],
             key: str, noted: dict[str, Any]) -> None:
    """``airflow dags test`` of one run; ``into[key]`` gets ``noted``, the run's tasks and its peak memory, also
    when it fails."""
    from orchestration.embedded import dags_test

    with PeakMemory() as mem:
        try:
            dags_test(dag_id, conf, env, log=log)
        finally:
            into[key] = {**noted, **(latest_run(db, dag_id) or {}), "peak_rss_gib": gib(mem.peak_bytes)}


def _run_dags(args: argparse.Namespace, env: dict[str, str], out: Path, dates: dict[str, date],
              result: dict[str, Any]) -> None:
    """The champion's training run, the first daily run (not measured) and the measured daily run."""
    from orchestration.embedded import dags_test

    logs, db, prep = out / "logs", out / "airflow" / "airflow.db", result["preparation"]
    history_end, first_ds, ds = dates["history_end"], dates["first_ds"], dates["ds"]
    train_conf = {"start": (history_end - timedelta(days=args.train_days - 1)).isoformat(),
                  "end": history_end.isoformat(), "valid_from": history_end.isoformat(), "aggregator": args.aggregator,
                  "window": 32, "stride": 4, "epochs": 1, "batch_size": 1024, "baselines": []}
    print(f"training DAG: {json.dumps(train_conf)}", flush=True)
    _dag_run(TRAINING_DAG, train_conf, env, db, logs / f"{TRAINING_DAG}.log", prep, "training", {"conf": train_conf})
    print(f"training DAG: {prep['training']['state']} in {prep['training']['seconds']} s", flush=True)

    print(f"first daily DAG for ds={first_ds} (state built from the history; not measured)", flush=True)
    _dag_run(DAILY_DAG, {"ds": first_ds.isoformat(), "incremental": True}, env, db, logs / f"{DAILY_DAG}-first.log",
             prep, "first_daily", {"ds": first_ds.isoformat()})
    print(f"first daily DAG: {prep['first_daily']['state']} in {prep['first_daily']['seconds']} s", flush=True)

    print(f"daily DAG for ds={ds} (measured)", flush=True)
    t = time.perf_counter()
    with PeakMemory(record=True) as mem:
        try:
            dags_test(DAILY_DAG, {"ds": ds.isoformat(), "incremental": True}, env, log=logs / f"{DAILY_DAG}.log")
        finally:
            result["daily_command_seconds"] = round(time.perf_counter() - t, 1)
            result["peak_rss_gib"] = gib(mem.peak_bytes)
            daily = latest_run(db, DAILY_DAG) or {}
            for task in daily.get("tasks", []):
                task["peak_rss_gib"] = peak_between(mem.samples, task["start"], task["end"])
            result["daily"] = daily
            result["spark_memory"] = spark_memory(logs / f"{DAILY_DAG}.log")


def _prepare(out: Path, datasets: list[Path], history_end: date, prep: dict[str, Any]) -> tuple[Path, dict[str, str]]:
    """A fresh work folder: the inputs staged, the history in ``clean_events`` (a child process), the metadata DB.
    Returns the data root and the embedded Airflow's environment."""
    from orchestration.embedded import airflow_env, migrate

    shutil.rmtree(out, ignore_errors=True)
    root, logs = out / "data", out / "logs"
    root.mkdir(parents=True)
    logs.mkdir()
    t = time.perf_counter()
    stage_inputs(datasets, root)
    prep["stage_seconds"] = round(time.perf_counter() - t, 1)
    print(f"inputs staged in {root} ({prep['stage_seconds']} s)", flush=True)
    prep["history"] = history_child(root, history_end, logs / "history.log")
    print(f"history ..{history_end}: {prep['history']}", flush=True)
    # 10M events are not the short jobs the embedded default's C1-only JIT is for: the default JIT here
    env = airflow_env(out / "airflow", root, base={**os.environ, "JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS": JAVA_OPTIONS})
    t = time.perf_counter()
    migrate(env, log=logs / "airflow-db-migrate.log")
    prep["migrate_seconds"] = round(time.perf_counter() - t, 1)
    return root, env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.history:
        from orchestration.demo import load_history

        rows = load_history(Path(args.history[0]), date.fromisoformat(args.history[1]))
        print("RESULT " + json.dumps({"rows": rows}), flush=True)
        return 0

    from benchmarks.pipeline import ensure_input

    started, wall_start = time.perf_counter(), datetime.now(timezone.utc)
    total_days = args.days + args.earlier_days
    out = (args.out or Settings.from_env().cache_dir / "bench" / work_folder(total_days)).resolve()
    command = _command(argv)
    data = ensure_input(args.users, args.days)
    manifest = json.loads((data / "_generator.json").read_text())
    start = date.fromisoformat(manifest["config"]["start"])
    ds = start + timedelta(days=args.days - 1)
    datasets, events, first = [data], manifest["counts"]["raw_events"], start
    if args.earlier_days:
        first = start - timedelta(days=args.earlier_days)
        earlier = ensure_input(args.users, args.earlier_days, seed=EARLIER_SEED, start=first)
        datasets.insert(0, earlier)
        events += json.loads((earlier / "_generator.json").read_text())["counts"]["raw_events"]
    dates = {"ds": ds, "first_ds": ds - timedelta(days=1), "history_end": ds - timedelta(days=2)}
    memory = psutil.virtual_memory()
    result: dict[str, Any] = {
        "command": command, "machine": machine(), "started": wall_start.isoformat(timespec="seconds"),
        "niceness": os.nice(0), "load_before": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "memory_total_gib": gib(memory.total), "memory_available_gib": gib(memory.available),
        "dataset": {"path": ", ".join(map(str, datasets)), "events": events, "users": manifest["config"]["users"],
                    "start": first.isoformat(), "end": ds.isoformat(),
                    "seeds": (f"seed {EARLIER_SEED} until {start - timedelta(days=1)} (the earlier history), seed 7 from "
                              f"{start}" if args.earlier_days else "seed 7")},
        "ds": ds.isoformat(), "history_end": dates["history_end"].isoformat(), "preparation": {},
        "java_options": JAVA_OPTIONS, "commit": _commit(),
    }
    prep = result["preparation"]

    root, env = _prepare(out, datasets, dates["history_end"], prep)
    rc = 0
    try:
        _run_dags(args, env, out, dates, result)
    except Exception as e:  # noqa: BLE001 — a failed run is a finding: record it, write the partial figures
        result["error"] = f"{type(e).__name__}: {e} (task logs under {out / 'airflow' / 'logs'})"
        print(result["error"], file=sys.stderr, flush=True)
        rc = 1
    result["figures"] = figures(root, ds)
    result["load_after"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    result["total_seconds"] = round(time.perf_counter() - started, 1)

    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    json_doc = args.doc.parent / "benchmarks.md"
    stored = json_doc.with_suffix(".json")
    kept = json.loads(stored.read_text()).get("daily", {}) if stored.exists() else {}
    new = [{**row, "command": command, "commit": result["commit"], "started": result["started"],
            "load_before": result["load_before"], "load_after": result["load_after"]} for row in daily_rows(result, root)]
    runs = merged_runs(kept.get("runs", []), new)
    write_json("daily", doc=json_doc, value={
        "command": command, "machine": machine(), "load_before": result["load_before"],
        "load_after": result["load_after"], "runs": runs, "history_cost": history_cost(runs)})
    body = render(result)
    write_section(section_title(total_days), body, doc=args.doc, header=RELIABILITY_HEADER)
    print(json.dumps(result, indent=2))
    print(body)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
