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

Writes the section "Load: the daily DAG on 10 million events" of docs/reliability.md, both runs as ``daily.runs``
in docs/benchmarks.json (``kind``, ``history_days``, ``events``, ``users``, ``active_users``, ``seconds``, ``tasks``)
and a JSON copy at ``.cache/bench/load/result.json``; prints them. Exit status 1 when a DAG run fails (the partial figures are
written all the same).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psutil

from benchmarks.report import (
    BENCH_USERS,
    write_json,
    RELIABILITY_DOC,
    RELIABILITY_HEADER,
    PeakMemory,
    dataset_dir,
    machine,
    write_section,
)
from jobtrail.settings import Settings
from jobtrail.tables import Tables, monitoring_report_name

SECTION = "Load: the daily DAG on 10 million events"
DAILY_DAG, TRAINING_DAG = "jobtrail_daily_embeddings", "jobtrail_training"
GIB = 2**30
JAVA_OPTIONS = "-Duser.timezone=UTC"


def _gib(n: float | None) -> float | None:
    return None if n is None else round(n / GIB, 2)


def stage_inputs(data: Path, root: Path) -> None:
    """Hard-link (copy where links fail) the raw events and the catalogue into the data root."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    for name in (Tables.RAW_EVENTS, Tables.JOB_CATALOG):
        shutil.copytree(data / name, root / name, copy_function=link)


def history_child(root: Path, last_day: date, log: Path) -> dict[str, Any]:
    """:func:`orchestration.demo.load_history` in a child process (its Arrow memory leaves with it); rows, s, peak."""
    started = time.perf_counter()
    with PeakMemory() as mem, log.open("w") as out:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.load", "--history", str(root), last_day.isoformat()],
                              stdout=subprocess.PIPE, stderr=out, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"loading the history failed (exit {proc.returncode}); see {log}")
    rows = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])["rows"]
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 1), "peak_rss_gib": _gib(mem.peak_bytes)}


def spark_memory(log: Path) -> str:
    """What the DAG's ``spark-submit`` jobs got: ``spark.driver.memory`` when passed, and Spark's storage memory."""
    import re

    text = log.read_text(errors="replace") if log.exists() else ""
    given = re.search(r"(?:spark\.driver\.memory=|--driver-memory )(\S+)", text)
    storage = re.search(r"Registering block manager \S+ with ([0-9.]+ [KMG]iB) RAM", text)
    memory = f"spark.driver.memory={given.group(1)}" if given else "spark-submit's default driver memory (1g)"
    return memory + (f", block manager storage {storage.group(1)}" if storage else "")


def _utc(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(str(text))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def latest_run(db: Path, dag_id: str) -> dict[str, Any] | None:
    """The latest run of ``dag_id`` in the SQLite metadata DB: state, start/end and its task instances in order."""
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        run = con.execute("SELECT run_id, state, start_date, end_date FROM dag_run WHERE dag_id = ? "
                          "ORDER BY id DESC LIMIT 1", (dag_id,)).fetchone()
        if run is None:
            return None
        rows = con.execute("SELECT task_id, map_index, state, start_date, end_date, try_number FROM task_instance "
                           "WHERE dag_id = ? AND run_id = ? ORDER BY start_date IS NULL, start_date, map_index",
                           (dag_id, run[0])).fetchall()
    tasks = []
    for task_id, map_index, state, start, end, tries in rows:
        s, e = _utc(start), _utc(end)
        tasks.append({"task": task_id if map_index in (None, -1) else f"{task_id}[{map_index}]", "state": state,
                      "tries": tries, "start": s.isoformat() if s else None, "end": e.isoformat() if e else None,
                      "seconds": round((e - s).total_seconds(), 1) if s and e else None})
    start, end = _utc(run[2]), _utc(run[3])
    return {"run_id": run[0], "state": run[1], "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "seconds": round((end - start).total_seconds(), 1) if start and end else None, "tasks": tasks}


def peak_between(samples: list[tuple[float, int]], start: str | None, end: str | None) -> float | None:
    """Highest sample (GiB) between two ISO times (a task's window); None without samples in it."""
    if not start:
        return None
    lo = datetime.fromisoformat(start).timestamp()
    hi = datetime.fromisoformat(end).timestamp() if end else float("inf")
    inside = [b for t, b in samples if lo <= t <= hi]
    return _gib(max(inside)) if inside else None


def _count(table: Path, column: str | None = None, value: Any = None) -> int | None:
    """Rows of a Delta table (of one partition value), from the files' statistics where possible."""
    if not table.exists():
        return None
    import pyarrow.dataset as pads
    from deltalake import DeltaTable

    dataset = DeltaTable(str(table)).to_pyarrow_dataset()
    return dataset.count_rows(filter=None if column is None else pads.field(column) == value)


def _events_through(root: Path, ds: date) -> int | None:
    """Clean events of every day up to ``ds`` (what a run for ``ds`` had in its history, its own day included)."""
    table = root / Tables.CLEAN_EVENTS
    if not table.exists():
        return None
    import pyarrow.dataset as pads
    from deltalake import DeltaTable

    return DeltaTable(str(table)).to_pyarrow_dataset().count_rows(filter=pads.field("ds") <= ds)


def _size_gib(path: Path) -> float | None:
    if not path.exists():
        return None
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / GIB, 2)


def figures(root: Path, ds: date) -> dict[str, Any]:
    """What the daily run left: the day's ingest counts, history, inputs, feature rows, monitoring."""
    from deltalake import DeltaTable

    from orchestration.demo import feature_rows_per_day

    as_of = ds + timedelta(days=1)
    out: dict[str, Any] = {"ds": ds.isoformat(), "as_of_date": as_of.isoformat()}
    counts_path = root / Tables.INGEST_COUNTS
    if counts_path.exists():
        rows = [r for r in DeltaTable(str(counts_path)).to_pyarrow_table().to_pylist() if r["ds"] == ds]
        if rows:
            out["ingest"] = {k: rows[0][k] for k in ("input_rows", "clean_rows", "duplicate_rows", "quarantined_rows")}
    out["clean_events_total"] = _count(root / Tables.CLEAN_EVENTS)
    out["inference_input_rows"] = _count(root / Tables.INFERENCE_INPUTS, "as_of_date", as_of)
    if (root / Tables.FEATURE_TABLE).exists():
        day = [r for r in feature_rows_per_day(root / Tables.FEATURE_TABLE) if r[0] == as_of.isoformat()]
        if day:
            _, name, version, n, fallback = day[-1]
            out["feature_rows"] = {"model_name": name, "model_version": version, "rows": n, "computed": n - fallback,
                                   "fallback": fallback}
            report = root / Tables.MONITORING_REPORTS / f"{monitoring_report_name(as_of, name, version)}.json"
            if report.exists():
                row = json.loads(report.read_text())
                out["monitoring"] = {k: row.get(k) for k in ("status", "failed_checks", "rows", "users_scored",
                                                             "active_users", "coverage", "nan_rows", "norm_p50")}
    out["table_gib"] = {t: _size_gib(root / t) for t in (Tables.CLEAN_EVENTS, Tables.USER_STATE,
                                                          Tables.INFERENCE_INPUTS, Tables.FEATURE_TABLE)}
    return out


def daily_rows(result: dict[str, Any], root: Path) -> list[dict[str, Any]]:
    """The machine-readable rows of both daily runs (first, steady) for docs/benchmarks.json."""
    first = date.fromisoformat(result["dataset"]["start"])
    rows = []
    for kind, run in (("first", result["preparation"].get("first_daily")), ("steady", result.get("daily"))):
        if not run or not run.get("tasks"):
            continue
        ds = date.fromisoformat(run.get("ds") or result["ds"])
        as_of = ds + timedelta(days=1)
        reports = list((root / Tables.MONITORING_REPORTS).glob(f"{monitoring_report_name(as_of, '*', '*')}.json"))
        monitored = json.loads(reports[0].read_text()) if reports else {}
        rows.append({"kind": kind, "ds": ds.isoformat(), "state": run.get("state"),
                     "history_days": (ds - first).days, "events": _events_through(root, ds),
                     "users": _count(root / Tables.INFERENCE_INPUTS, "as_of_date", as_of),
                     "active_users": monitored.get("active_users"), "seconds": run.get("seconds"),
                     "tasks": {t["task"]: t["seconds"] for t in run["tasks"]}})
    return rows


def _n(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    return "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def render(r: dict[str, Any]) -> str:
    """The markdown body of the section from a result (the JSON this command writes)."""
    daily = r.get("daily") or {}
    prep = r["preparation"]
    f = r.get("figures") or {}
    lines = [
        f"Command: `{r['command']}` on {r['machine']} (Spark `local[2]` through `spark-submit`, "
        f"{r.get('spark_memory', '—')}, driver Java options `{r.get('java_options', '—')}`; "
        f"niceness {r['niceness']}, load average {r['load_before']} before and {r.get('load_after', '—')} after: "
        f"the 2 cores were shared with other work). Started {r['started']}.",
        "",
        f"Dataset: {_n(r['dataset']['events'])} synthetic events of {_n(r['dataset']['users'])} users, "
        f"{r['dataset']['start']}..{r['dataset']['end']}, seed 7. History {r['dataset']['start']}..{r['history_end']} "
        f"({_n(prep['history']['rows'])} events) in `clean_events`; a first daily run for the day after it builds the "
        f"per-user state from the whole history and every user's embedding (preparation, below); the measured run "
        f"is the next day's, ds = {r['ds']} (a manual run without a logical date, lookback 90 days, `incremental`: "
        f"true): the state folds that day, inference recomputes the users with new events and carries the others.",
        "",
        f"**Daily DAG: {daily.get('state', 'not run')}** in {_n(daily.get('seconds'))} s (DAG run start → end; "
        f"{_n(r.get('daily_command_seconds'))} s for the whole `airflow dags test` process). Peak resident memory of "
        f"the process tree {_n(r.get('peak_rss_gib'))} GiB of the machine's {r['memory_total_gib']} GiB "
        f"({r['memory_available_gib']} GiB available at the start). The peak is the sum of every process's RSS "
        "(Airflow, `spark-submit` JVMs, Python workers), so pages shared between processes count more than once.",
        "",
        "| task | seconds | peak RSS GiB during the task | state | tries |",
        "|---|---|---|---|---|",
    ]
    for t in daily.get("tasks", []):
        lines.append(f"| `{t['task']}` | {_n(t['seconds'])} | {_n(t.get('peak_rss_gib'))} | {t['state']} | "
                     f"{_n(t['tries'])} |")
    if any((t.get("tries") or 0) > 1 for t in daily.get("tasks", [])):
        lines.append("| (a task with tries > 1: its seconds are the last try's; the failed tries and the retry delay "
                     "count in the whole run; their errors are in the DAG log) | | | | |")
    lines.append(f"| **whole run** | **{_n(daily.get('seconds'))}** | **{_n(r.get('peak_rss_gib'))}** | "
                 f"{daily.get('state', '—')} | |")
    ingest = f.get("ingest") or {}
    rows = f.get("feature_rows") or {}
    mon = f.get("monitoring") or {}
    sizes = f.get("table_gib") or {}
    lines += [
        "",
        "| figure | value |", "|---|---|",
        f"| events ingested for ds = {r['ds']} (input / clean / duplicates / quarantined) | "
        f"{_n(ingest.get('input_rows'))} / {_n(ingest.get('clean_rows'))} / {_n(ingest.get('duplicate_rows'))} / "
        f"{_n(ingest.get('quarantined_rows'))} |",
        f"| history events before the run / `clean_events` after it | {_n(prep['history']['rows'])} / "
        f"{_n(f.get('clean_events_total'))} |",
        f"| inference input rows (as of {f.get('as_of_date', '—')}) | {_n(f.get('inference_input_rows'))} |",
        f"| feature table rows (computed / fallback), model | {_n(rows.get('rows'))} ({_n(rows.get('computed'))} / "
        f"{_n(rows.get('fallback'))}), {rows.get('model_name', '—')} v{rows.get('model_version', '—')} |",
        f"| monitoring | {mon.get('status', '—')}: coverage {_pct(mon.get('coverage'))} of the "
        f"{_n(mon.get('active_users'))} users active on ds, {_n(mon.get('nan_rows'))} NaN rows, median norm {_n(mon.get('norm_p50'))} |",
        f"| table sizes GiB (clean events / user state / inference inputs / feature table) | "
        f"{_n(sizes.get(Tables.CLEAN_EVENTS))} / {_n(sizes.get(Tables.USER_STATE))} / "
        f"{_n(sizes.get(Tables.INFERENCE_INPUTS))} / {_n(sizes.get(Tables.FEATURE_TABLE))} |",
    ]
    if r.get("error"):
        lines += ["", f"**Failure:** {r['error']}"]
    train = prep.get("training") or {}
    steps = ", ".join(f"{t['task']} {_n(t['seconds'])}" for t in train.get("tasks", []) if t.get("seconds"))
    first = prep.get("first_daily") or {}
    first_steps = ", ".join(f"{t['task']} {_n(t['seconds'])}" for t in first.get("tasks", []) if t.get("seconds"))
    lines += [
        "",
        f"Preparation (not measured above): inputs hard-linked in {prep['stage_seconds']} s; history written with "
        f"`orchestration.demo.load_history` (pyarrow + deltalake, no Spark) in {prep['history']['seconds']} s, peak "
        f"{prep['history']['peak_rss_gib']} GiB; `airflow db migrate` {prep['migrate_seconds']} s; the champion from the "
        f"real training DAG (conf `{json.dumps(train.get('conf', {}))}`): {train.get('state', 'not run')} in "
        f"{_n(train.get('seconds'))} s, peak {_n(train.get('peak_rss_gib'))} GiB (seconds per task: {steps or '—'}); "
        f"the first daily run (ds = {first.get('ds', '—')}): {first.get('state', 'not run')} in "
        f"{_n(first.get('seconds'))} s, peak {_n(first.get('peak_rss_gib'))} GiB (seconds per task: {first_steps or '—'}). "
        f"Whole command: {_n(r.get('total_seconds'))} s.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=BENCH_USERS)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="work folder, wiped first (default .cache/bench/load)")
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
            into[key] = {**noted, **(latest_run(db, dag_id) or {}), "peak_rss_gib": _gib(mem.peak_bytes)}


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
            result["peak_rss_gib"] = _gib(mem.peak_bytes)
            daily = latest_run(db, DAILY_DAG) or {}
            for task in daily.get("tasks", []):
                task["peak_rss_gib"] = peak_between(mem.samples, task["start"], task["end"])
            result["daily"] = daily
            result["spark_memory"] = spark_memory(logs / f"{DAILY_DAG}.log")


def _prepare(out: Path, data: Path, history_end: date, prep: dict[str, Any]) -> tuple[Path, dict[str, str]]:
    """A fresh work folder: the inputs staged, the history in ``clean_events`` (a child process), the metadata DB.
    Returns the data root and the embedded Airflow's environment."""
    from orchestration.embedded import airflow_env, migrate

    shutil.rmtree(out, ignore_errors=True)
    root, logs = out / "data", out / "logs"
    root.mkdir(parents=True)
    logs.mkdir()
    t = time.perf_counter()
    stage_inputs(data, root)
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
    out = (args.out or Settings.from_env().cache_dir / "bench" / "load").resolve()
    command = _command(argv)
    data = ensure_input(args.users, args.days)
    manifest = json.loads((data / "_generator.json").read_text())
    first = date.fromisoformat(manifest["config"]["start"])
    ds = first + timedelta(days=args.days - 1)
    dates = {"ds": ds, "first_ds": ds - timedelta(days=1), "history_end": ds - timedelta(days=2)}
    memory = psutil.virtual_memory()
    result: dict[str, Any] = {
        "command": command, "machine": machine(), "started": wall_start.isoformat(timespec="seconds"),
        "niceness": os.nice(0), "load_before": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "memory_total_gib": _gib(memory.total), "memory_available_gib": _gib(memory.available),
        "dataset": {"path": str(data), "events": manifest["counts"]["raw_events"], "users": manifest["config"]["users"],
                    "start": first.isoformat(), "end": ds.isoformat()},
        "ds": ds.isoformat(), "history_end": dates["history_end"].isoformat(), "preparation": {},
        "java_options": JAVA_OPTIONS,
    }
    prep = result["preparation"]

    root, env = _prepare(out, data, dates["history_end"], prep)
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
    write_json("daily", doc=args.doc.parent / "benchmarks.md", value={
        "command": command, "machine": machine(), "load_before": result["load_before"],
        "load_after": result["load_after"], "runs": daily_rows(result, root)})
    body = render(result)
    write_section(SECTION, body, doc=args.doc, header=RELIABILITY_HEADER)
    print(json.dumps(result, indent=2))
    print(body)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
