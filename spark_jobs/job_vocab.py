"""Vocabularies of the job side table: categorical values, salary statistics, token settings and job ids.

Used by :mod:`spark_jobs.job_table` (its module docstring documents the table and ``_vocab.json``). A vocabulary
is built from the training snapshot and reused, unchanged, for later snapshots (``--vocab``), so ids and rows mean
the same thing to a model trained on the first snapshot:

- categorical ids (company/location/category): 0 = missing, 1 = out of vocabulary, 2.. = vocabulary values;
- ``job_id_row`` (the row of a job's learned id embedding): 0 = the padding row, 1 = a job id outside the
  vocabulary (a new posting: content features only), 2.. = the vocabulary's job ids (value ``i`` of
  ``job_ids`` has row ``i + 2``). A fresh vocabulary holds the table's jobs in ``job_index`` order, at most
  ``max_job_ids``, so a fresh table's rows are ``job_index + 1`` up to that cap.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobtrail.errors import ConfigError, DataContractError
from jobtrail.job_table_io import FIRST_VALUE_ID, MISSING_ID, OOV_ID, PADDING_INDEX, read_vocab

CATEGORICAL = ("company", "location", "category")
DEFAULT_MAX_JOB_IDS = 1_000_000


@dataclass(frozen=True)
class TokenConfig:
    buckets: int = 2**14
    title_length: int = 8
    skill_length: int = 16


@dataclass(frozen=True)
class JobVocab:
    """Vocabularies (values in id order from 2) and the salary statistics of one snapshot."""

    company: tuple[str, ...] = ()
    location: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    salary_log_mean: float = 0.0
    salary_log_std: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"vocabularies": {c: list(getattr(self, c)) for c in CATEGORICAL},
                "numeric_stats": {"salary_log_mean": self.salary_log_mean, "salary_log_std": self.salary_log_std}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "JobVocab":
        try:
            return cls(*(tuple(d["vocabularies"][c]) for c in CATEGORICAL),
                       float(d["numeric_stats"]["salary_log_mean"]), float(d["numeric_stats"]["salary_log_std"]))
        except (KeyError, TypeError) as e:
            raise DataContractError(f"not a job-table vocabulary (missing {e}); pass a _vocab.json it wrote") from e


def clean_value(column: str) -> Column:
    """A categorical value: trimmed, blank → null (missing)."""
    return F.nullif(F.trim(F.col(column)), F.lit(""))


def salary_mid() -> Column:
    """The midpoint of salary_min/salary_max (or the one given); null unless > 0."""
    lo, hi = F.col("salary_min"), F.col("salary_max")
    mid = F.when(lo.isNotNull() & hi.isNotNull(), (lo + hi) / 2).otherwise(F.coalesce(lo, hi))
    return F.when(mid > 0, mid)


def build_vocab(snapshot: DataFrame, *, min_count: int = 1, max_vocab: int = 10_000) -> JobVocab:
    """Vocabularies of company/location/category and log-salary mean/std of ``snapshot`` (one small job each)."""
    pairs = snapshot.select(F.explode(F.array(*[F.struct(F.lit(c).alias("col"), clean_value(c).alias("value"))
                                                for c in CATEGORICAL])).alias("p")).select("p.*")
    counts = pairs.where("value IS NOT NULL").groupBy("col", "value").count().where(F.col("count") >= min_count)
    rank = F.row_number().over(Window.partitionBy("col").orderBy(F.desc("count"), "value"))
    kept = counts.withColumn("rank", rank).where(F.col("rank") <= max_vocab).collect()
    ranked = sorted(kept, key=lambda r: r.rank)
    values = {c: tuple(r.value for r in ranked if r.col == c) for c in CATEGORICAL}
    # exact decimal sums: a double sum depends on the partitioning in its last bits, decimals do not
    x = F.log(salary_mid()).cast("decimal(20,12)")
    n, sx, sxx = snapshot.select(x.alias("x")).agg(F.count("x"), F.sum("x"), F.sum(F.col("x") * F.col("x"))).first()
    mean = float(sx) / n if n else 0.0
    var = float(sxx) / n - mean * mean if n else 0.0
    std = math.sqrt(var) if var > 1e-12 else 1.0
    return JobVocab(values["company"], values["location"], values["category"], mean, std)


def apply_vocab(snapshot: DataFrame, *, vocab: JobVocab) -> DataFrame:
    """Add ``<col>_id`` for company/location/category: 0 missing, 1 out of vocabulary, 2.. values."""
    spark = snapshot.sparkSession
    out = snapshot
    for c in CATEGORICAL:
        lookup = spark.createDataFrame([(v, i + FIRST_VALUE_ID) for i, v in enumerate(getattr(vocab, c))],
                                       "_value string, _id int")
        out = out.withColumn("_key", clean_value(c)).join(F.broadcast(lookup), F.col("_key") == F.col("_value"), "left")
        ids = F.when(F.col("_key").isNull(), MISSING_ID).otherwise(F.coalesce(F.col("_id"), F.lit(OOV_ID)))
        out = out.withColumn(f"{c}_id", ids.cast("int")).drop("_key", "_value", "_id")
    return out


def fresh_job_id_row(*, max_job_ids: int = DEFAULT_MAX_JOB_IDS) -> Column:
    """``job_id_row`` of a freshly built vocabulary (the table's jobs in index order): ``job_index + 1`` for
    ``job_index`` 1..max_job_ids, 1 beyond, 0 for the padding row."""
    index = F.col("job_index")
    row = F.when(index == PADDING_INDEX, F.lit(PADDING_INDEX)).when(index <= max_job_ids, index + (FIRST_VALUE_ID - 1))
    return row.otherwise(F.lit(OOV_ID)).cast("int")


def reuse_job_id_rows(table: DataFrame, *, job_ids: tuple[str, ...]) -> DataFrame:
    """Replace ``job_id_row`` by the rows of a saved vocabulary: ``i + 2`` for ``job_ids[i]``, 1 for other jobs,
    0 for the padding row (null job_id)."""
    lookup = table.sparkSession.createDataFrame(
        pa.table({"_job_id": pa.array(job_ids, pa.string()),
                  "_row": pa.array(range(FIRST_VALUE_ID, len(job_ids) + FIRST_VALUE_ID), pa.int32())}))
    joined = table.drop("job_id_row").join(lookup, F.col("job_id") == F.col("_job_id"), "left")
    row = F.when(F.col("job_id").isNull(), F.lit(PADDING_INDEX)).otherwise(F.coalesce("_row", F.lit(OOV_ID)))
    return joined.withColumn("job_id_row", row.cast("int")).drop("_job_id", "_row")


def saved_job_ids(saved: dict[str, Any], path: Path) -> tuple[str, ...]:
    """The ``job_ids`` of a loaded ``_vocab.json``; DataContractError if absent (an older file) or malformed."""
    if "job_ids" not in saved:
        raise DataContractError(
            f"{path} has no 'job_ids': it was written before job id rows existed. Rebuild the training vocabulary "
            "(spark_jobs/job_table.py without --vocab on the training snapshot), retrain, then reuse that _vocab.json")
    ids = saved["job_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
        raise DataContractError(f"'job_ids' of {path} is not a list of distinct job_id strings; rebuild the vocabulary")
    if saved.get("job_id_rows", len(ids) + FIRST_VALUE_ID) != len(ids) + FIRST_VALUE_ID:
        raise DataContractError(f"'job_id_rows' of {path} does not match its {len(ids)} job_ids; rebuild the vocabulary")
    return tuple(ids)


def load_saved_vocab(path: Path, tokens: TokenConfig | None = None
                     ) -> tuple[JobVocab, TokenConfig, tuple[str, ...], dict[str, Any]]:
    """Vocabulary, token settings, job ids and the rest of a ``_vocab.json``; ``tokens``, if given, must match."""
    saved = read_vocab(path)
    try:
        saved_tokens = TokenConfig(**{f.name: int(saved["tokens"][f.name]) for f in fields(TokenConfig)})
    except (KeyError, TypeError, ValueError) as e:
        raise DataContractError(f"{path} has no valid token settings ({e}); pass a _vocab.json this job wrote") from e
    if tokens is not None and tokens != saved_tokens:
        raise ConfigError(f"token settings {asdict(tokens)} differ from {path}'s {asdict(saved_tokens)}; "
                          "drop them or build a new vocabulary")
    return JobVocab.from_dict(saved), saved_tokens, saved_job_ids(saved, path), saved
