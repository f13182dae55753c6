"""Build the synthetic dataset as Arrow tables and write it as hive-partitioned Parquet.

``jobtrail generate --users N --days D --seed S --out PATH`` runs :func:`generate` in one process;
``spark-submit spark_jobs/generate.py`` runs :func:`events_table` / :func:`ground_truth_table` on
Spark executors over slices of users. Both write the same layout under PATH::

    raw_events/ds=YYYY-MM-DD/*.parquet     contract RAW_EVENT (+ ds)
    job_catalog/ds=YYYY-MM-DD/*.parquet    contract JOB (+ ds), one snapshot per day
    ground_truth/ds=YYYY-MM-DD/*.parquet   each user's latent intent per day
    _generator.json                        the configuration and the row counts
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa

from jobtrail.contracts import GROUND_TRUTH, RAW_EVENT, Tables, with_partition
from jobtrail.parquet_io import write_partitioned
from jobtrail.synthetic.behaviour import plan_user, user_events
from jobtrail.synthetic.catalog import Catalog, build_catalog
from jobtrail.synthetic.config import DAY_US, GeneratorConfig
from jobtrail.synthetic.occupations import FAMILIES

EVENT_SCHEMA = with_partition(RAW_EVENT)
MANIFEST = "_generator.json"


def _ds_from_us(ts: np.ndarray) -> pa.Array:
    return pa.array((ts // DAY_US).astype(np.int32), pa.date32())


def events_table(cfg: GeneratorConfig, catalog: Catalog, users: Iterable[int]) -> pa.Table:
    """Events of the given user indices, ordered by user then time; schema ``EVENT_SCHEMA``."""
    cols: dict[str, list] = {k: [] for k in ("event_id", "event_type", "job_id", "query", "ts", "channel")}
    user_ids: list[str] = []
    for index in users:
        plan = plan_user(cfg, int(index))
        events = user_events(cfg, catalog, plan)
        for key, values in events.items():
            cols[key].extend(values)
        user_ids.extend([plan.user_id] * len(events["ts"]))
    ts = np.asarray(cols["ts"], dtype=np.int64)
    return pa.table(
        {
            "event_id": pa.array(cols["event_id"], pa.string()),
            "user_id": pa.array(user_ids, pa.string()),
            "event_type": pa.array(cols["event_type"], pa.string()),
            "job_id": pa.array(cols["job_id"], pa.string()),
            "query": pa.array(cols["query"], pa.string()),
            "ts": pa.array(ts, pa.int64()).cast(pa.timestamp("us")).cast(RAW_EVENT.field("ts").type),
            "channel": pa.array(cols["channel"], pa.string()),
            "ds": _ds_from_us(ts),
        },
        schema=EVENT_SCHEMA,
    )


def ground_truth_table(cfg: GeneratorConfig, users: Iterable[int]) -> pa.Table:
    """One row per user per day: the user's kind, latent intent (family) and seniority that day."""
    first_day = cfg.start_us // DAY_US
    ids, kinds, intents, seniorities, phases, days = [], [], [], [], [], []
    for index in users:
        plan = plan_user(cfg, int(index))
        first_days = [phase.first_day for phase in plan.phases]
        phase_of_day = np.searchsorted(first_days, np.arange(cfg.days), side="right") - 1
        ids.extend([plan.user_id] * cfg.days)
        kinds.extend([plan.kind] * cfg.days)
        intents.extend(np.array([FAMILIES[p.family].name for p in plan.phases], dtype=object)[phase_of_day])
        seniorities.extend(np.array([p.seniority for p in plan.phases])[phase_of_day].tolist())
        phases.extend(phase_of_day.tolist())
        days.append(np.arange(cfg.days, dtype=np.int32) + first_day)
    return pa.table(
        {
            "user_id": ids,
            "ds": pa.array(np.concatenate(days) if days else np.array([], np.int32), pa.date32()),
            "user_kind": kinds,
            "intent": intents,
            "intent_seniority": pa.array(seniorities, pa.int32()),
            "phase": pa.array(phases, pa.int32()),
        },
        schema=GROUND_TRUTH,
    )


def catalog_snapshots(cfg: GeneratorConfig, catalog: Catalog) -> pa.Table:
    """The daily catalogue snapshots of every day of the run, stacked."""
    return pa.concat_tables([catalog.snapshot(cfg, d) for d in range(cfg.days)])


def write_manifest(cfg: GeneratorConfig, out: Path, counts: dict[str, int]) -> None:
    config = {k: (str(v) if k == "start" else v) for k, v in asdict(cfg).items()}
    (out / MANIFEST).write_text(json.dumps({"config": config, "counts": counts}, indent=2) + "\n")


def generate(cfg: GeneratorConfig, out: str | Path) -> dict[str, int]:
    """Generate and write the whole dataset in this process; returns the row counts per table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    catalog = build_catalog(cfg)
    events = events_table(cfg, catalog, range(cfg.users))
    snapshots = catalog_snapshots(cfg, catalog)
    truth = ground_truth_table(cfg, range(cfg.users))
    write_partitioned(events, out / Tables.RAW_EVENTS)
    write_partitioned(snapshots, out / Tables.JOB_CATALOG)
    write_partitioned(truth, out / Tables.GROUND_TRUTH)
    counts = {
        Tables.RAW_EVENTS: events.num_rows,
        Tables.JOB_CATALOG: snapshots.num_rows,
        Tables.GROUND_TRUTH: truth.num_rows,
        "users": cfg.users,
        "jobs": catalog.table.num_rows,
    }
    write_manifest(cfg, out, counts)
    return counts
