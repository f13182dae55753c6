"""The history load's plan over ``start..end`` (a platform's export, before any model exists): range ingest →
timelines → job side table of ``end`` (fresh vocabulary) → inference inputs and the per-user state as of
``end + 1``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.knobs import LOOKBACK_DAYS, WINDOW
from jobtrail.rules import check_choice, check_number, inside_root, optional_date, shown
from jobtrail.tables import DEFAULT_MAX_QUARANTINE_SHARE, Tables
from orchestration.plans.catalog import CatalogSource, catalog_source
from orchestration.plans.form import CATALOG_PARAMS, INPUT_FORMATS, arg, check_known, knob_value, midnight_utc

HISTORY_PARAMS: tuple[str, ...] = ("start", "end", "inputs", "input_format", "mapping", "max_quarantine_share",
                                   *CATALOG_PARAMS, "window", "lookback_days")
MAX_HISTORY_DAYS = 3 * 366
"""The longest range one history load takes (three years; load longer exports in several runs)."""


@dataclass(frozen=True)
class HistoryPlan:
    """One history load: a platform's export of ``start..end`` into the tables a first training and the daily runs
    read — range ingest, timelines, the ``end`` job side table, inference inputs (and user state) as of ``end + 1``."""

    start: date
    end: date
    data_root: Path
    inputs: tuple[Path, ...]
    catalog: CatalogSource
    input_format: str | None = None
    mapping: Path | None = None
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
    window: int = WINDOW.default
    lookback_days: int = LOOKBACK_DAYS.default

    @property
    def as_of(self) -> date:
        return self.end + timedelta(days=1)

    @property
    def job_table(self) -> Path:
        return self.data_root / Tables.JOB_SIDE_TABLE / f"ds={self.end}"

    def ingest_args(self) -> list[str]:
        """One range run; ``--now`` is the end of the range, so a rerun writes identical rows."""
        now = midnight_utc(self.as_of)
        args = ["--start", arg(self.start), "--end", arg(self.end)]
        for path in self.inputs:
            args += ["--input", str(path)]
        args += ["--now", now, "--max-quarantine-share", repr(float(self.max_quarantine_share)),
                 "--data-root", str(self.data_root)]
        if self.input_format:
            args += ["--format", self.input_format]
        if self.mapping:
            args += ["--mapping", str(self.mapping)]
        return args

    def timelines_args(self) -> list[str]:
        return ["--start", arg(self.start), "--end", arg(self.end), "--data-root", str(self.data_root)]

    def job_table_args(self) -> list[str]:
        """A fresh vocabulary from the range's last day, every job of the range's events in it."""
        return ["--ds", arg(self.end), *self.catalog.args(), "--events", str(self.data_root / Tables.CLEAN_EVENTS),
                "--start", arg(self.start), "--end", arg(self.end), "--out", str(self.job_table),
                "--data-root", str(self.data_root)]

    def inference_inputs_args(self) -> list[str]:
        return ["--as-of", arg(self.as_of), "--job-table", str(self.job_table), "--lookback-days",
                str(self.lookback_days), "--window", str(self.window), "--data-root", str(self.data_root)]

    def to_xcom(self) -> dict[str, Any]:
        return {"start": arg(self.start), "end": arg(self.end), "as_of": arg(self.as_of),
                "data_root": str(self.data_root), "inputs": [str(p) for p in self.inputs], **self.catalog.to_xcom(),
                "job_table": str(self.job_table), "ingest_args": self.ingest_args(),
                "timelines_args": self.timelines_args(), "job_table_args": self.job_table_args(),
                "inference_inputs_args": self.inference_inputs_args()}


def history_plan(params: Mapping[str, Any], *, data_root: Path) -> HistoryPlan:
    """Validate the history-load DAG's params into a :class:`HistoryPlan`."""
    check_known(params, HISTORY_PARAMS, "jobtrail_history_load")
    start, end = optional_date(params.get("start"), "start"), optional_date(params.get("end"), "end")
    if start is None or end is None:
        raise ConfigError("give start and end: the first and last UTC day of the export to load")
    if end < start:
        raise ConfigError(f"end={end} is before start={start}")
    if (end - start).days >= MAX_HISTORY_DAYS:
        raise ConfigError(f"start={start} .. end={end} spans more than {MAX_HISTORY_DAYS} days; load it in "
                          "several runs of consecutive ranges")
    inputs = params.get("inputs") or [Tables.RAW_EVENTS]
    if not isinstance(inputs, (list, tuple)):
        raise ConfigError(f"inputs={shown(inputs)} must be a list of paths relative to the data root")
    mapping, fmt = params.get("mapping"), params.get("input_format")
    return HistoryPlan(
        start=start, end=end, data_root=data_root,
        inputs=tuple(inside_root(data_root, p, "inputs") for p in inputs),
        catalog=catalog_source(params, data_root, end),
        input_format=None if fmt in (None, "") else check_choice(fmt, "input_format", INPUT_FORMATS),
        mapping=None if mapping in (None, "") else inside_root(data_root, mapping, "mapping"),
        max_quarantine_share=check_number(params.get("max_quarantine_share", DEFAULT_MAX_QUARANTINE_SHARE),
                                          "max_quarantine_share", minimum=0.0, maximum=1.0),
        window=knob_value(params, WINDOW),
        lookback_days=knob_value(params, LOOKBACK_DAYS),
    )
