"""The ``ingest_counts`` table: one row per run day — input, clean, duplicate and quarantined rows (by reason) —
reconciled before anything is written, and the run's quarantine share checked after."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from jobtrail.errors import DataContractError
from spark_jobs.common import days
from spark_jobs.ingest_config import REASON_HINTS, REASONS, IngestArgs, IngestConfig, parse_utc

COUNTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ds", "date"), ("input_rows", "bigint"), ("clean_rows", "bigint"), ("duplicate_rows", "bigint"),
    ("quarantined_rows", "bigint"), ("quarantined_by_reason", "map<string,bigint>"), ("input", "string"),
    ("config", "string"), ("ingested_at", "timestamp"),
)
COUNTS_DDL = ", ".join(f"{name} {kind}" for name, kind in COUNTS_COLUMNS)
"""Schema of the ``ingest_counts`` table: one row per run day; the map holds every code of :data:`REASONS`."""
REASON, OUTCOME, DAY = "reason", "outcome", "_day"
"""The labelled rows' columns: quarantine reason (null: valid), outcome, the run day a row is counted in."""


@dataclass(frozen=True)
class IngestCounts:
    """A run's counts; :meth:`check` enforces ``input = clean + duplicates + quarantined``."""

    input_rows: int
    clean_rows: int = 0
    duplicate_rows: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]], *, input_rows: int) -> "IngestCounts":
        """From :func:`count_outcomes` rows (outcome, reason, n) and the input's row count."""
        by = {"clean": 0, "duplicate": 0}
        quarantined = dict.fromkeys(REASONS, 0)
        for row in rows:
            if row["outcome"] == "quarantined":
                quarantined[row["reason"]] += row["n"]
            else:
                by[row["outcome"]] += row["n"]
        return cls(input_rows, by["clean"], by["duplicate"], quarantined)

    @property
    def quarantined_rows(self) -> int:
        return sum(self.quarantined.values())

    def check(self, *, source: str, ds: date | str) -> None:
        """Raise :class:`DataContractError` unless the counts reconcile exactly."""
        total = self.clean_rows + self.duplicate_rows + self.quarantined_rows
        if total != self.input_rows:
            raise DataContractError(
                f"ingest of {source} for {ds} does not reconcile: input {self.input_rows} != clean {self.clean_rows}"
                f" + duplicates {self.duplicate_rows} + quarantined {self.quarantined_rows}; nothing was written. "
                "Did the input change while it was read? Rerun; if it persists, report it as a bug in the ingest job."
            )

    def as_dict(self) -> dict[str, object]:
        return {"input_rows": self.input_rows, "clean_rows": self.clean_rows, "duplicate_rows": self.duplicate_rows,
                "quarantined_rows": self.quarantined_rows, "quarantined_by_reason": dict(self.quarantined)}


def count_outcomes(labeled: DataFrame) -> DataFrame:
    """Rows per (``_day``, ``outcome``, ``reason``) of :func:`spark_jobs.ingest.mark_duplicates`'s output, as column ``n``."""
    return labeled.groupBy(DAY, OUTCOME, REASON).agg(F.count(F.lit(1)).alias("n"))


def day_counts(outcomes: Iterable[Row], *, input_rows: int, start: date, end: date,
               source: str) -> dict[date, IngestCounts]:
    """Every run day's :class:`IngestCounts` from the outcome rows (:func:`count_outcomes`); days without rows get
    zeros. A day's input is the rows the run assigned to it (``_day``); the run's total is checked against
    ``input_rows``, counted on the input as read, independently of the labelling. Raises
    :class:`DataContractError` before anything is written when the counts do not reconcile.
    """
    by_day: dict[date, list[Row]] = {}
    for row in outcomes:
        by_day.setdefault(row[DAY], []).append(row)
    if unexpected := sorted(set(by_day) - set(days(start, end))):
        raise DataContractError(f"ingest of {source} counted rows on days {unexpected} outside {start}..{end}; "
                                "report it as a bug in the ingest job")
    counts = {}
    for day in days(start, end):
        rows = by_day.get(day, [])
        counts[day] = IngestCounts.from_rows(rows, input_rows=sum(r["n"] for r in rows))
    whole = total(counts)
    IngestCounts(input_rows, whole.clean_rows, whole.duplicate_rows, whole.quarantined).check(
        source=source, ds=start if start == end else f"{start}..{end}")
    return counts


def counts_frame(spark: SparkSession, counts: Mapping[date, IngestCounts], *, source: str, config: IngestConfig,
                 ingested_at: datetime) -> DataFrame:
    """One row per run day of the ``ingest_counts`` table (:data:`COUNTS_DDL`), built without Python workers."""
    rows = []
    for ds, c in sorted(counts.items()):
        by_reason = F.create_map(*[F.lit(x) for code in REASONS for x in (code, c.quarantined.get(code, 0))])
        values = [F.lit(ds), F.lit(c.input_rows), F.lit(c.clean_rows), F.lit(c.duplicate_rows),
                  F.lit(c.quarantined_rows), by_reason, F.lit(source),
                  F.lit(json.dumps(config.to_dict(), sort_keys=True)), F.lit(parse_utc(ingested_at))]
        rows.append(F.struct(*[v.cast(kind).alias(name) for v, (name, kind) in zip(values, COUNTS_COLUMNS)]))
    return spark.range(1).select(F.inline(F.array(*rows)))


def total(counts: Mapping[date, IngestCounts]) -> IngestCounts:
    """The run's counts over all its days."""
    parts = list(counts.values())
    return IngestCounts(
        input_rows=sum(c.input_rows for c in parts), clean_rows=sum(c.clean_rows for c in parts),
        duplicate_rows=sum(c.duplicate_rows for c in parts),
        quarantined={code: sum(c.quarantined.get(code, 0) for c in parts) for code in REASONS},
    )


def check_quarantine_share(counts: IngestCounts, args: IngestArgs) -> None:
    """Raise :class:`DataContractError` when the run quarantined more than ``--max-quarantine-share`` of its
    input, naming the top reason and the mapping key or flag to check."""
    if not counts.input_rows or counts.quarantined_rows / counts.input_rows <= args.max_quarantine_share:
        return
    reason, n = max(counts.quarantined.items(), key=lambda kv: kv[1])
    where = "would be" if args.dry_run else f"were written to {args.quarantine_path}; they"
    raise DataContractError(
        f"ingest of {args.source} for {args.start}..{args.end} quarantined {counts.quarantined_rows:,} of "
        f"{counts.input_rows:,} rows ({counts.quarantined_rows / counts.input_rows:.0%}), above "
        f"--max-quarantine-share {args.max_quarantine_share}; top reason {reason} ({n:,} rows): check "
        f"{REASON_HINTS[reason]}. The rows {where} can be re-ingested after fixing the mapping "
        "(ingest --dry-run shows samples per reason)."
    )
