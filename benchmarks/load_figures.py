"""What a daily-DAG load run left, read back: run and task times from the Airflow metadata DB, the memory peak of
each task's window, the tables' row counts and sizes (:mod:`benchmarks.load`)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jobtrail.tables import Tables, monitoring_report_name

GIB = 2**30


def gib(n: float | None) -> float | None:
    return None if n is None else round(n / GIB, 2)


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
    return gib(max(inside)) if inside else None


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


def _sizegib(path: Path) -> float | None:
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
    out["table_gib"] = {t: _sizegib(root / t) for t in (Tables.CLEAN_EVENTS, Tables.USER_STATE,
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


def merged_runs(kept: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``daily.runs`` after a run: the new rows, and the kept rows of the other histories (a 90-day run keeps the
    30-day rows and the other way round); a kept row with the same ``kind`` and ``history_days`` is replaced."""
    replaced = {(r["kind"], r["history_days"]) for r in new}
    rows = [r for r in kept if (r.get("kind"), r.get("history_days")) not in replaced] + new
    return sorted(rows, key=lambda r: (r["history_days"], r["kind"]))


def history_cost(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The steady-state day's seconds per history length and the longest over the shortest (the cost should follow
    the day, not the history); None with fewer than two lengths measured."""
    steady = {r["history_days"]: r["seconds"] for r in runs if r.get("kind") == "steady" and r.get("seconds")}
    if len(steady) < 2:
        return None
    shortest, longest = min(steady), max(steady)
    return {"steady_seconds": {str(k): v for k, v in sorted(steady.items())},
            "ratio": round(steady[longest] / steady[shortest], 3), "of": [longest, shortest]}

