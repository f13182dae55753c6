"""Bodies of the history-load tasks that are not Spark jobs: plan the run, summarise what it loaded.

Called from ``dags/jobtrail_history_load.py``; ``deltalake`` is imported inside the functions, at run time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.settings import Settings
from jobtrail.tables import Tables
from orchestration.plans import history_plan

log = logging.getLogger(__name__)
COUNTED = ("input_rows", "clean_rows", "duplicate_rows", "quarantined_rows")


def plan_run(params: Mapping[str, Any], *, settings: Settings | None = None) -> dict[str, Any]:
    """Validate the form; fail at once when an input or a mapping is missing."""
    settings = settings or Settings.from_env()
    plan = history_plan(params, data_root=settings.data_root)
    for path in (*plan.inputs, plan.mapping, plan.catalog.mapping,
                 plan.catalog.path if plan.catalog.mapping else None):
        if path is not None and "://" not in str(path) and not path.exists():
            raise ConfigError(f"{path} does not exist: upload the export under the data root {plan.data_root} "
                              "and give its path relative to it")
    log.info("history load %s..%s from %s, catalogue %s, inference inputs as of %s, data root %s", plan.start,
             plan.end, ", ".join(map(str, plan.inputs)), plan.catalog.args(), plan.as_of, plan.data_root)
    return plan.to_xcom()


def ingest_totals(counts: Path, start: date, end: date) -> dict[str, Any]:
    """Per-day counts of ``ingest_counts`` for the range, summed, with the days that had no clean row."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    table = DeltaTable(str(counts)).to_pyarrow_table(columns=["ds", *COUNTED])
    days = pc.and_(pc.greater_equal(table["ds"], pa.scalar(start, pa.date32())),
                   pc.less_equal(table["ds"], pa.scalar(end, pa.date32())))
    table = table.filter(days)
    totals = {c: int(pc.sum(table[c]).as_py() or 0) for c in COUNTED}
    empty = sorted(str(d) for d, n in zip(table["ds"].to_pylist(), table["clean_rows"].to_pylist()) if not n)
    return {**totals, "days": table.num_rows, "days_without_clean_rows": len(empty), "first_empty_days": empty[:5]}


def summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """What the load wrote and how to go on: train on the range, then run the daily DAG from ``end + 1``."""
    from deltalake import DeltaTable

    root = Path(plan["data_root"])
    start, end = date.fromisoformat(plan["start"]), date.fromisoformat(plan["end"])
    totals = ingest_totals(root / Tables.INGEST_COUNTS, start, end)
    inputs = DeltaTable(str(root / Tables.INFERENCE_INPUTS)).to_pyarrow_table(
        columns=["as_of_date"], filters=[("as_of_date", "=", date.fromisoformat(plan["as_of"]))])
    out = {"start": plan["start"], "end": plan["end"], **totals, "users": inputs.num_rows,
           "job_table": plan["job_table"],
           "next": {"jobtrail_training": {"start": plan["start"], "end": plan["end"], **{
               k: v for k, v in (("catalog", _relative(plan["catalog"], root)),
                                 ("catalog_mapping", _relative(plan["catalog_mapping"], root))) if v},
               **({"no_catalog": True} if plan["catalog"] is None else {})},
               "jobtrail_daily_embeddings": f"from ds = {date.fromisoformat(plan['end']).isoformat()} + 1 day on"}}
    log.info("loaded %s..%s: %d rows read, %d clean, %d duplicates, %d quarantined, %d days (%d without clean "
             "rows); inference inputs for %d users as of %s. Next: trigger jobtrail_training with %s", start, end,
             totals["input_rows"], totals["clean_rows"], totals["duplicate_rows"], totals["quarantined_rows"],
             totals["days"], totals["days_without_clean_rows"], inputs.num_rows, plan["as_of"],
             out["next"]["jobtrail_training"])
    return out


def _relative(path: str | None, root: Path) -> str | None:
    if not path:
        return None
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path
