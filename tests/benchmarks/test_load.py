"""benchmarks/load.py plumbing: task timings from the metadata DB and per-task peaks (load_figures.py), the report
section (load_report.py)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

import benchmarks.load as load
from benchmarks.load_figures import history_cost, latest_run, merged_runs, peak_between
from benchmarks.load_report import render
from benchmarks.report import RELIABILITY_HEADER, write_section


def _db(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE dag_run (id INTEGER PRIMARY KEY, dag_id TEXT, run_id TEXT, state TEXT, "
                "start_date TEXT, end_date TEXT)")
    con.execute("CREATE TABLE task_instance (dag_id TEXT, run_id TEXT, task_id TEXT, map_index INTEGER, state TEXT, "
                "start_date TEXT, end_date TEXT, try_number INTEGER)")
    con.execute("INSERT INTO dag_run VALUES (1, 'd', 'old', 'failed', '2026-01-01 00:00:00', '2026-01-01 00:01:00')")
    con.execute("INSERT INTO dag_run VALUES (2, 'd', 'new', 'success', '2026-01-02 00:00:00', "
                "'2026-01-02 00:10:00.500000')")
    con.executemany("INSERT INTO task_instance VALUES ('d', ?, ?, ?, ?, ?, ?, ?)", [
        ("old", "plan", -1, "failed", "2026-01-01 00:00:01", "2026-01-01 00:00:02", 1),
        ("new", "infer", -1, "success", "2026-01-02 00:01:00", "2026-01-02 00:09:00", 2),
        ("new", "plan", -1, "success", "2026-01-02 00:00:01", "2026-01-02 00:00:05", 1),
        ("new", "train", 0, "skipped", None, None, 0),
    ])
    con.commit()
    con.close()


def test_latest_run_reads_the_newest_run_and_its_tasks_in_order(tmp_path):
    _db(tmp_path / "airflow.db")
    run = latest_run(tmp_path / "airflow.db", "d")
    assert (run["run_id"], run["state"], run["seconds"]) == ("new", "success", 600.5)
    assert [(t["task"], t["seconds"], t["tries"]) for t in run["tasks"]] == [
        ("plan", 4.0, 1), ("infer", 480.0, 2), ("train[0]", None, 0)]
    assert latest_run(tmp_path / "airflow.db", "other") is None
    assert latest_run(tmp_path / "missing.db", "d") is None


def test_peak_between_takes_the_samples_inside_the_window():
    t0 = datetime(2026, 1, 2, tzinfo=timezone.utc)
    samples = [(t0.timestamp() + s, b * 2**30) for s, b in ((0, 1), (5, 3), (10, 2), (20, 9))]
    start, end = t0.isoformat(), t0.replace(second=12).isoformat()
    assert peak_between(samples, start, end) == 3.0
    assert peak_between(samples, None, None) is None
    assert peak_between(samples, t0.replace(second=30).isoformat(), None) is None


def test_render_writes_a_section_with_every_task_and_the_totals(tmp_path):
    result = {
        "command": "python -m benchmarks.load", "machine": "x86_64, 2 cores", "started": "2026-01-02T00:00:00+00:00",
        "niceness": 10, "load_before": "2.0, 2.0, 2.0", "load_after": "3.0, 3.0, 3.0", "memory_total_gib": 23.4,
        "memory_available_gib": 19.0, "ds": "2026-10-30", "history_end": "2026-10-29",
        "dataset": {"events": 10_074_264, "users": 610_000, "start": "2026-10-01", "end": "2026-10-30"},
        "preparation": {"stage_seconds": 0.1, "migrate_seconds": 9.0,
                        "history": {"rows": 9_700_000, "seconds": 60.0, "peak_rss_gib": 3.1},
                        "training": {"conf": {"aggregator": "mean"}, "state": "success", "seconds": 300.0,
                                     "tasks": [{"task": "train", "seconds": 100.0}]}},
        "daily": {"state": "success", "seconds": 1800.0, "tasks": [
            {"task": "ingest", "seconds": 60.0, "peak_rss_gib": 2.5, "state": "success", "tries": 1},
            {"task": "infer", "seconds": 900.0, "peak_rss_gib": 6.0, "state": "success", "tries": 1}]},
        "daily_command_seconds": 1830.0, "peak_rss_gib": 6.5, "total_seconds": 2500.0,
        "figures": {"as_of_date": "2026-10-31", "ingest": {"input_rows": 340_000, "clean_rows": 339_000,
                                                          "duplicate_rows": 1_000, "quarantined_rows": 0},
                    "clean_events_total": 10_039_000, "inference_input_rows": 609_000,
                    "feature_rows": {"model_name": "m", "model_version": "1", "rows": 609_000, "computed": 609_000,
                                     "fallback": 0},
                    "monitoring": {"status": "pass", "coverage": 1.0, "active_users": 150_000, "nan_rows": 0}},
    }
    body = render(result)
    assert "| `ingest` | 60 | 2.5 | success | 1 |" in body and "| `infer` | 900.0 | 6 | success | 1 |" in body
    assert "**1,800.0**" in body and "**6.5**" in body and "609,000 (609,000 / 0)" in body and "pass" in body
    doc = tmp_path / "reliability.md"
    write_section(load.SECTION, body, doc=doc, header=RELIABILITY_HEADER)
    text = doc.read_text()
    assert text.startswith("# Reliability") and f"## {load.SECTION}" in text


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        load.main(["--days", "5", "--train-days", "5"])


def test_a_run_keeps_the_rows_of_other_history_lengths_and_compares_the_steady_days():
    thirty = [{"kind": "first", "history_days": 28, "seconds": 400.0},
              {"kind": "steady", "history_days": 29, "seconds": 300.0}]
    ninety = [{"kind": "first", "history_days": 88, "seconds": 900.0},
              {"kind": "steady", "history_days": 89, "seconds": 330.0}]
    runs = merged_runs(thirty, ninety)
    assert [(r["kind"], r["history_days"]) for r in runs] == [("first", 28), ("steady", 29), ("first", 88),
                                                               ("steady", 89)]
    assert history_cost(runs) == {"steady_seconds": {"29": 300.0, "89": 330.0}, "ratio": 1.1, "of": [89, 29]}
    again = merged_runs(runs, [{"kind": "steady", "history_days": 29, "seconds": 320.0}])  # a rerun replaces its row
    assert [r["seconds"] for r in again if r["history_days"] == 29 and r["kind"] == "steady"] == [320.0]
    assert len(again) == 4
    assert history_cost(thirty) is None and history_cost([]) is None
    assert load.section_title(30) == load.SECTION and load.section_title(90).endswith("90 days of history")
    assert load.work_folder(30) == "load" and load.work_folder(90) == "load_d90"
    assert load.parse_args(["--earlier-days", "60"]).earlier_days == 60
