"""``jobtrail evaluate --data-root R --start D1 --cutoff D2``: the evaluation harness on a platform's own data.

The dataset is the ``clean_events`` Delta table of a data root (what ``ingest`` wrote) and a job side table:
``--job-table``, else the latest ``<root>/job_side_table/ds=D`` with D ≤ the last day (what ``job-table`` or the
history-load DAG built, from a catalogue or from the events' own attributes), else id-only jobs built from the
events themselves (``job-table --no-catalog``). The split is by time, as for every dataset
(:mod:`evaluation.config`): training targets before ``valid_from`` (default: a week before the cutoff),
validation until the cutoff, the reported figures on the ``horizon_days`` after it (default 14, shortened to the
data's last day). The run trains the aggregators of ``--models`` (default mean and transformer; one seed unless
``--seeds``) with the synthetic dataset's training settings and reports them beside the popularity ranking:
Recall@10 / NDCG@10 from the daily embedding, P90 coverage, the proxy AUC and the downstream lift (when the data
has impressions to label). The report goes to ``<root>/reports/evaluation.md`` with ``evaluation.json`` beside it;
prepared data and trained runs are cached under ``<root>/evaluation_work`` (keyed by the table's Delta version).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from evaluation.config import SMALL, DatasetSpec, EvalConfig
from jobtrail.errors import ConfigError
from jobtrail.tables import Tables

NAME = "own"
"""The dataset's name in the report and in ``evaluation.json`` (``datasets.own``)."""
MODELS = ("mean", "transformer")
VALIDATION_DAYS = 7
HORIZON_DAYS = 14
TRAIN = SMALL.train["synthetic"]
"""Training settings: the small preset's for the synthetic job-seeker data, the closest in shape to a platform's."""


def event_days(data_root: Path) -> tuple[date, date, int]:
    """(first day, last day, Delta version) of ``<root>/clean_events``."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    path = data_root / Tables.CLEAN_EVENTS
    try:
        table = DeltaTable(str(path))
    except TableNotFoundError as e:
        raise ConfigError(f"no clean events at {path}: ingest the export first (jobtrail ingest --start ... "
                          "--end ... --input ... --data-root ...)") from e
    days = sorted({d for d in table.to_pyarrow_table(columns=["ds"]).column("ds").to_pylist() if d is not None})
    if not days:
        raise ConfigError(f"{path} holds no events")
    return days[0], days[-1], table.version()


def default_job_table(data_root: Path, last_day: date) -> Path | None:
    """The latest ``<root>/job_side_table/ds=D`` with D ≤ ``last_day``, or None."""
    found = []
    for folder in (data_root / Tables.JOB_SIDE_TABLE).glob("ds=*"):
        try:
            day = date.fromisoformat(folder.name.removeprefix("ds="))
        except ValueError:
            continue
        if day <= last_day and any(folder.glob("*.parquet")):
            found.append((day, folder))
    return max(found)[1] if found else None


def own_spec(data_root: Path, *, start: date, cutoff: date, end: date | None = None, valid_from: date | None = None,
             horizon_days: int | None = None, job_table: Path | None = None) -> DatasetSpec:
    """The dataset of a data root, its split checked against the days the table holds."""
    first, last, version = event_days(data_root)
    end = end or last
    if start < first or end > last:
        raise ConfigError(f"{data_root / Tables.CLEAN_EVENTS} holds {first} .. {last}; the evaluation asks for "
                          f"{start} .. {end}")
    if not start < cutoff <= end:
        raise ConfigError(f"need start < cutoff <= end, got {start}, {cutoff}, {end}: the cutoff starts the horizon")
    horizon = horizon_days or min(HORIZON_DAYS, (end - cutoff).days + 1)
    valid_from = valid_from or max(cutoff - timedelta(days=VALIDATION_DAYS), start + timedelta(days=1))
    table = job_table or default_job_table(data_root, end)
    if table is not None and not any(Path(table).glob("*.parquet")):
        raise ConfigError(f"--job-table {table} holds no Parquet files: build it with jobtrail job-table")
    return DatasetSpec(name=NAME, kind="lake", start=start, end=end, valid_from=valid_from, cutoff=cutoff,
                       horizon_days=horizon, downstream="click", data_root=str(Path(data_root).resolve()),
                       job_table=str(Path(table).resolve()) if table else None, source_version=version)


def own_config(spec: DatasetSpec, models: tuple[str, ...] | None, seeds: int | None) -> EvalConfig:
    """One dataset, its aggregators, no ablations and no Amazon benchmark."""
    return replace(SMALL, name=NAME, datasets=(spec,), train={spec.name: TRAIN}, models=tuple(models or MODELS),
                   seeds=tuple(range(1, (seeds or 1) + 1)), windows=(32,), ablations=False, amazon=None)


def write_raw(spec: DatasetSpec, raw: Path) -> dict[str, int]:
    """The evaluated range of the clean events as ``raw/raw_events/ds=*/`` (the other datasets' layout)."""
    import pyarrow as pa
    import pyarrow.dataset as pads
    from deltalake import DeltaTable

    from jobtrail.contracts import RAW_EVENT

    table = DeltaTable(str(Path(spec.data_root) / Tables.CLEAN_EVENTS), version=spec.source_version)
    dataset = table.to_pyarrow_dataset()
    ds = pads.field("ds")
    events = dataset.to_table(columns=[*RAW_EVENT.names, "ds"],
                              filter=(ds >= pa.scalar(spec.start, pa.date32())) & (ds <= pa.scalar(spec.end, pa.date32())))
    if events.num_rows == 0:
        raise ConfigError(f"no clean events between {spec.start} and {spec.end}")
    pads.write_dataset(events, raw / Tables.RAW_EVENTS, format="parquet", partitioning=["ds"],
                       partitioning_flavor="hive", existing_data_behavior="delete_matching")
    return {"events": events.num_rows}


def side_table(spark, spec: DatasetSpec, out: Path) -> dict[str, Any]:
    """The job side table of the run: a copy of the given one, else id-only jobs from the clean events."""
    if spec.job_table:
        shutil.copytree(spec.job_table, out)
        import pyarrow.parquet as pq

        rows = pq.read_table(out, columns=["in_catalog"], partitioning=None).column("in_catalog")
        described = json.loads((out / "_vocab.json").read_text()).get("catalog") if (out / "_vocab.json").exists() else None
        return {"out": str(out), "total": len(rows), "from": spec.job_table, "catalog_source": described}
    from spark_jobs import job_table

    return job_table.run(spark, job_table.parse_args([
        "--ds", str(spec.end), "--no-catalog", "--events", str(Path(spec.data_root) / Tables.CLEAN_EVENTS),
        "--start", str(spec.start), "--end", str(spec.end), "--out", str(out)]))


def default_paths(data_root: Path) -> tuple[Path, Path]:
    """(work folder, report) of an evaluation of a data root."""
    return data_root / "evaluation_work", data_root / "reports" / "evaluation.md"
