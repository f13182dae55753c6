"""The load benchmark's section of docs/reliability.md, rendered from its result (:mod:`benchmarks.load`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jobtrail.tables import Tables


def spark_memory(log: Path) -> str:
    """What the DAG's ``spark-submit`` jobs got: ``spark.driver.memory`` when passed, and Spark's storage memory."""
    text = log.read_text(errors="replace") if log.exists() else ""
    given = re.search(r"(?:spark\.driver\.memory=|--driver-memory )(\S+)", text)
    storage = re.search(r"Registering block manager \S+ with ([0-9.]+ [KMG]iB) RAM", text)
    memory = f"spark.driver.memory={given.group(1)}" if given else "spark-submit's default driver memory (1g)"
    return memory + (f", block manager storage {storage.group(1)}" if storage else "")


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
        f"{r['dataset']['start']}..{r['dataset']['end']}, {r['dataset'].get('seeds', 'seed 7')}. History {r['dataset']['start']}..{r['history_end']} "
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
