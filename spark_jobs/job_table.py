"""Spark job: the job side table of one catalogue snapshot — a dense index and encoder-ready features.

Inputs: the catalogue snapshot ``<catalog>/ds=YYYY-MM-DD/*.parquet`` (contract ``JOB``) of ``--ds`` — or, through
``--catalog-mapping``, a catalogue export in its own layout or the job attributes carried on the events' export,
or with ``--no-catalog`` none at all (:mod:`spark_jobs.catalog_input`) — and,
optionally, the clean events Delta table (``--events``, or ``<data-root>/clean_events`` when ``--start``
/``--end`` are given) over ``--start``..``--end``, whose job_ids missing from the snapshot get a row too.

Output (contract ``JOB_SIDE_TABLE``, replaced as a whole on rerun): ``--out`` (default
``<data-root>/job_side_table/ds=YYYY-MM-DD``) holds one Parquet file sorted by ``job_index`` plus
``_vocab.json`` (the underscore hides it from Parquet readers, so ``spark.read.parquet(out)`` and
``pyarrow.parquet.read_table(out)`` read only the table). The TF side reads both with
:func:`jobtrail.job_table_io.load_job_table`. Conventions:

- ``job_index``: dense ``0..N-1``, the row number. **0 is the padding / no-job row** (``job_id`` null, every
  feature missing), so sequences use 0 for padding and search events. Catalogue jobs come next, ``1..C`` in
  ``job_id`` order (they depend on the snapshot only, not on the events window), then jobs seen only in
  events, ``C+1..N-1`` in ``job_id`` order (``in_catalog`` false, features missing: id-only). The index is a
  pure function of the inputs' contents, whatever their partitioning, but it belongs to one snapshot: store
  the table next to the examples that reference it (indices of two snapshots do not correspond; ids do).
  The snapshot's job_ids must be non-null and unique (else DataContractError).
- ``title_tokens`` (``--title-length`` 8) / ``skill_tokens`` (``--skill-length`` 16): fixed-length int arrays
  of hashed ids ``pmod(xxhash64(token), buckets) + 1`` in ``1..--token-buckets`` (2**14), 0 = padding
  (:mod:`spark_jobs.tokens`, Spark's seeded xxhash64: stable across runs and machines). A title gives its
  lower-cased word tokens (runs of letters/digits) in order; each skill *phrase* is one token (lower-cased,
  trimmed, inner white space collapsed: "Machine  Learning" → "machine learning"; punctuation kept, so
  "C++" ≠ "C#"), blanks and duplicates dropped, catalogue order kept. Longer lists are truncated.
- ``company_id`` / ``location_id`` / ``category_id``: 0 = missing (null or blank), 1 = out of vocabulary,
  2.. = vocabulary values. A vocabulary holds the snapshot's trimmed values seen ≥ ``--min-count`` times,
  at most ``--max-vocab``, ordered by count desc then value; value ``i`` of the JSON list has id ``i + 2``.
  ``--vocab old/_vocab.json`` reuses a training-time vocabulary (and its salary statistics and token
  settings) for a later snapshot: known values keep their ids, new ones map to 1.
- ``job_id_row``: the row of the job's learned id embedding — 0 = the padding row, 1 = a job outside the
  job-id vocabulary (new postings: content features only), 2.. = vocabulary jobs (``job_ids[i]`` has row
  ``i + 2``). A fresh vocabulary holds this table's jobs (catalogue and event-only) in ``job_index`` order, at
  most ``--max-job-ids`` (1,000,000; later jobs get 1), so its rows are ``job_index + 1``; with ``--vocab`` it is
  reused unchanged: a known job keeps its row although its ``job_index`` may differ, a new posting gets 1.
  Vocabulary code: :mod:`spark_jobs.job_vocab`.
- numerics (float32, 0 when missing, with a 0/1 ``has_*`` flag): ``seniority_norm`` = (seniority − 1)/4
  clipped to [0, 1]; ``salary_z`` = (log(midpoint of salary_min/salary_max, or the one given) − mean)/std
  over the snapshot's catalogue jobs (std 1 if degenerate), clipped to ±5, missing unless the midpoint > 0;
  ``log_posted_age_days`` = log1p(max(0, days from posted_ts to ds 00:00 UTC)).

``_vocab.json`` keys: ``snapshot_ds``, ``vocab_ds`` (where the vocabulary was built), ``vocabularies``,
``vocab_sizes`` (ids per column, for embedding sizes), ``ids``, ``tokens``, ``numeric_stats``,
``min_count``, ``max_vocab``, ``salary_z_clip``, ``rows`` (total/catalog/event_only/padding), ``columns``,
``job_ids`` (the job-id vocabulary, in row order from 2), ``job_id_rows`` (``len(job_ids) + 2``, the embedding
size), ``max_job_ids``, ``vocab_from``, ``events`` and ``catalog`` (lineage: what described the jobs). An older ``_vocab.json`` without ``job_ids``
is refused by ``--vocab`` (DataContractError): rebuild the vocabulary. It is written after the Parquet file, so a folder with a
``_vocab.json`` is complete. ``--out`` is a filesystem path (the JSON is written by the driver).

    spark-submit spark_jobs/job_table.py --ds 2026-10-03 --catalog data/synthetic/job_catalog \\
        [--events data/clean_events --start 2026-10-01 --end 2026-10-03] [--vocab prev/_vocab.json] [--out ...] \\
        [--max-job-ids 1000000]
    spark-submit spark_jobs/job_table.py --ds 2026-10-03 --catalog exports/jobs.csv --catalog-mapping jobs.json ...
    spark-submit spark_jobs/job_table.py --ds 2026-10-03 --no-catalog --start 2026-10-01 --end 2026-10-03 ...
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobtrail.argtypes import cli_path
from jobtrail.contracts import JOB, JOB_SIDE_TABLE, Tables, missing_columns
from jobtrail.errors import ConfigError, DataContractError
from jobtrail.job_table_io import FIRST_VALUE_ID, MISSING_ID, OOV_ID, PADDING_INDEX, VOCAB_FILE
from spark_jobs import tokens as tok
from spark_jobs.catalog_input import CatalogMapping, check_snapshot, describe, empty_snapshot, read_mapped_catalog
from spark_jobs.job_vocab import (  # noqa: F401  (JobVocab, TokenConfig, build_vocab, apply_vocab: re-exported)
    CATEGORICAL, DEFAULT_MAX_JOB_IDS, JobVocab, TokenConfig, apply_vocab, build_vocab, fresh_job_id_row,
    load_saved_vocab, reuse_job_id_rows, salary_mid,
)
from spark_jobs.common import add_data_root, data_root, iso_date, positive_int, read_delta
from spark_jobs.schemas import spark_schema

SALARY_Z_CLIP = 5.0


def tokenize(snapshot: DataFrame, *, tokens: TokenConfig) -> DataFrame:
    """Add ``title_tokens`` (word tokens) and ``skill_tokens`` (one per skill phrase), fixed length, 0-padded."""
    title = tok.token_ids(tok.tokens(F.col("title")), buckets=tokens.buckets)
    # a phrase keeps its punctuation ("c++" and "c#" differ) but not its case or extra white space
    phrases = F.transform(F.coalesce("skills", F.array().cast("array<string>")),
                          lambda s: F.regexp_replace(F.trim(F.lower(s)), r"\s+", " "))
    skills = tok.token_ids(F.array_distinct(F.filter(phrases, lambda p: p != "")), buckets=tokens.buckets)
    return snapshot.withColumns({"title_tokens": tok.pad(title, length=tokens.title_length),
                                 "skill_tokens": tok.pad(skills, length=tokens.skill_length)})


def normalise_numerics(snapshot: DataFrame, *, ds: date, vocab: JobVocab) -> DataFrame:
    """Add seniority_norm, salary_z, log_posted_age_days (0 when missing) and their has_* flags (float32)."""
    ref_us = int(datetime(ds.year, ds.month, ds.day, tzinfo=timezone.utc).timestamp()) * 1_000_000
    seniority, mid, posted = F.col("seniority"), salary_mid(), F.col("posted_ts")
    z = (F.log(mid) - F.lit(vocab.salary_log_mean)) / F.lit(vocab.salary_log_std)
    age_days = F.greatest((F.lit(ref_us) - F.unix_micros(posted)) / F.lit(86_400e6), F.lit(0.0))
    # least/greatest skip nulls, so every value is guarded by its presence explicitly
    cols = {
        "seniority_norm": F.when(seniority.isNotNull(),
                                 F.least(F.greatest((seniority - 1) / 4.0, F.lit(0.0)), F.lit(1.0))),
        "has_seniority": F.when(seniority.isNotNull(), 1.0),
        "salary_z": F.when(mid.isNotNull(), F.least(F.greatest(z, F.lit(-SALARY_Z_CLIP)), F.lit(SALARY_Z_CLIP))),
        "has_salary": F.when(mid.isNotNull(), 1.0),
        "log_posted_age_days": F.when(posted.isNotNull(), F.log1p(age_days)),
        "has_posted_ts": F.when(posted.isNotNull(), 1.0),
    }
    return snapshot.withColumns({k: F.coalesce(v, F.lit(0.0)).cast("float") for k, v in cols.items()})


def _missing_features(tokens: TokenConfig) -> list[Column]:
    """Feature columns of a row without catalogue attributes: padding tokens, id 0, numerics 0."""
    zeros = {"title_tokens": tokens.title_length, "skill_tokens": tokens.skill_length}
    return [F.lit(False).alias("in_catalog"),
            *[F.array_repeat(F.lit(0), n).cast("array<int>").alias(name) for name, n in zeros.items()],
            *[F.lit(MISSING_ID).cast("int").alias(f"{c}_id") for c in CATEGORICAL],
            *[F.lit(0.0).cast("float").alias(f.name) for f in JOB_SIDE_TABLE if f.type == pa.float32()]]


def catalog_features(snapshot: DataFrame, *, ds: date, vocab: JobVocab, tokens: TokenConfig) -> DataFrame:
    """Every catalogue job with its features (``in_catalog`` true), no index yet."""
    features = normalise_numerics(apply_vocab(tokenize(snapshot, tokens=tokens), vocab=vocab), ds=ds, vocab=vocab)
    names = [n for n in JOB_SIDE_TABLE.names if n not in ("job_index", "in_catalog", "job_id_row")]
    return features.select(*names, F.lit(True).alias("in_catalog"))


def add_missing_jobs(features: DataFrame, event_jobs: DataFrame, *, tokens: TokenConfig) -> DataFrame:
    """Add a row (``in_catalog`` false, features missing) for each job_id of ``event_jobs`` absent from ``features``."""
    missing = event_jobs.select("job_id").where("job_id IS NOT NULL").distinct().join(
        features.select("job_id"), "job_id", "left_anti")
    return features.unionByName(missing.select("job_id", *_missing_features(tokens)))


def assign_index(jobs: DataFrame, *, tokens: TokenConfig, max_job_ids: int = DEFAULT_MAX_JOB_IDS) -> DataFrame:
    """Add the padding row 0, ``job_index`` 1.. (catalogue jobs by job_id, then event-only jobs by job_id) and the
    ``job_id_row`` of a fresh job-id vocabulary (``job_index + 1`` up to ``max_job_ids`` jobs, then 1)."""
    # one global ordering: the table is small (one row per job), a single-partition window is fine
    order = Window.orderBy(F.col("in_catalog").desc(), F.col("job_id"))
    indexed = jobs.withColumn("job_index", (F.row_number().over(order) + PADDING_INDEX).cast("int"))
    padding = jobs.sparkSession.range(1).select(F.lit(PADDING_INDEX).cast("int").alias("job_index"),
                                               F.lit(None).cast("string").alias("job_id"), *_missing_features(tokens))
    table = indexed.unionByName(padding)
    return table.withColumn("job_id_row", fresh_job_id_row(max_job_ids=max_job_ids)).select(*JOB_SIDE_TABLE.names)


def build_job_table(snapshot: DataFrame, event_jobs: DataFrame | None, *, ds: date, vocab: JobVocab,
                    tokens: TokenConfig, job_ids: tuple[str, ...] | None = None,
                    max_job_ids: int = DEFAULT_MAX_JOB_IDS) -> DataFrame:
    """The side table (contract JOB_SIDE_TABLE) of ``snapshot`` plus the event-only jobs of ``event_jobs``.

    ``job_ids``: a saved job-id vocabulary to reuse (its jobs keep their ``job_id_row``, others get 1); None builds
    a fresh one from this table's jobs in ``job_index`` order, at most ``max_job_ids``.
    """
    jobs = catalog_features(snapshot, ds=ds, vocab=vocab, tokens=tokens)
    if event_jobs is not None:
        jobs = add_missing_jobs(jobs, event_jobs, tokens=tokens)
    table = assign_index(jobs, tokens=tokens, max_job_ids=max_job_ids)
    if job_ids is not None:
        table = reuse_job_id_rows(table, job_ids=job_ids).select(*JOB_SIDE_TABLE.names)
    return table.to(spark_schema(JOB_SIDE_TABLE))


def read_snapshot(spark: SparkSession, catalog: Path, ds: date) -> DataFrame:
    """The snapshot ``<catalog>/ds=<ds>`` cast to contract JOB; raises if absent, or job_ids null/duplicated."""
    path = catalog / f"ds={ds.isoformat()}"
    try:
        df = spark.read.parquet(str(path))
    except AnalysisException as e:
        raise DataContractError(f"no catalogue snapshot at {path}; check --catalog and --ds") from e
    if missing := missing_columns(JOB, df.columns):
        raise DataContractError(f"catalogue snapshot {path} lacks columns {missing} (contract JOB); an export in "
                                "its own layout needs --catalog-mapping (see spark_jobs/catalog_input.py)")
    return check_snapshot(df, source=str(path))


def load_snapshot(spark: SparkSession, args: "JobTableArgs") -> tuple[DataFrame, dict[str, Any]]:
    """The snapshot the side table describes (:mod:`spark_jobs.catalog_input`) and what it was made from."""
    if args.catalog is None:
        if args.events is None:
            raise ConfigError("--no-catalog takes every job from the clean events: give --start and --end")
        return empty_snapshot(spark), describe("none")
    if args.catalog_mapping is None:
        return read_snapshot(spark, args.catalog, args.ds), describe("snapshot", args.catalog)
    mapping = CatalogMapping.load(args.catalog_mapping)
    snapshot = read_mapped_catalog(spark, str(args.catalog), mapping, ds=args.ds)
    return snapshot, describe("events" if mapping.rows == "events" else "export", args.catalog)


def read_event_jobs(spark: SparkSession, events: Path, *, start: date, end: date) -> DataFrame:
    """Distinct non-null job_ids of the clean events of ``start``..``end`` (Delta, partitioned by ds)."""
    try:
        df = read_delta(spark, events)
    except AnalysisException as e:
        raise DataContractError(f"no clean events Delta table at {events}; run ingest or fix --events") from e
    in_range = F.col("ds").between(F.lit(start), F.lit(end)) & F.col("job_id").isNotNull()
    return df.where(in_range).select("job_id").distinct()


def write_job_table(table: DataFrame, out: Path) -> None:
    """Replace ``out`` with ``table`` as one Parquet file sorted by job_index."""
    table.coalesce(1).sortWithinPartitions("job_index").write.mode("overwrite").parquet(str(out))


@dataclass(frozen=True)
class JobTableArgs:
    ds: date
    catalog: Path | None
    """None: no catalogue (``--no-catalog``)."""
    out: Path
    events: Path | None = None
    start: date | None = None
    end: date | None = None
    vocab: Path | None = None
    tokens: TokenConfig | None = None  # None: the vocab file's, else the defaults
    min_count: int = 1
    max_vocab: int = 10_000
    max_job_ids: int = DEFAULT_MAX_JOB_IDS
    catalog_mapping: Path | None = None
    """``--catalog`` is an export in its own layout, read through this mapping (None: a contract snapshot)."""


def parse_args(argv: list[str] | None = None) -> JobTableArgs:
    parser = argparse.ArgumentParser(description="Build the job side table of one catalogue snapshot.")
    parser.add_argument("--ds", type=iso_date, required=True, help="snapshot date")
    catalog = parser.add_mutually_exclusive_group()
    catalog.add_argument("--catalog", type=cli_path, default=None,
                         help="catalogue root (<catalog>/ds=.../*.parquet, contract JOB), or with --catalog-mapping "
                              "a catalogue or events export in its own layout")
    catalog.add_argument("--no-catalog", action="store_true",
                         help="no catalogue: every job of the events (--start/--end) id-only")
    parser.add_argument("--catalog-mapping", type=cli_path, default=None,
                        help="JSON mapping of the --catalog export (spark_jobs/catalog_input.py)")
    parser.add_argument("--events", type=cli_path, default=None, help="clean events Delta table")
    parser.add_argument("--start", type=iso_date, default=None, help="first events day (with --end)")
    parser.add_argument("--end", type=iso_date, default=None, help="last events day")
    parser.add_argument("--vocab", type=cli_path, default=None,
                        help="reuse this _vocab.json (or the table folder holding it)")
    parser.add_argument("--out", type=cli_path, default=None)
    parser.add_argument("--token-buckets", type=positive_int, default=None, help="default 2**14")
    parser.add_argument("--title-length", type=positive_int, default=None, help="default 8")
    parser.add_argument("--skill-length", type=positive_int, default=None, help="default 16")
    parser.add_argument("--min-count", type=positive_int, default=1)
    parser.add_argument("--max-vocab", type=positive_int, default=10_000)
    parser.add_argument("--max-job-ids", type=positive_int, default=DEFAULT_MAX_JOB_IDS,
                        help="job ids with a learned row (in job_index order; later jobs share row 1); "
                             "ignored with --vocab, whose job ids are reused")
    add_data_root(parser)
    a = parser.parse_args(argv)
    if (a.events or a.start or a.end) and not (a.start and a.end):
        parser.error("events need both --start and --end")
    if a.start and a.end < a.start:
        parser.error(f"--end {a.end} is before --start {a.start}")
    if a.catalog_mapping and not a.catalog:
        parser.error("argument --catalog-mapping: maps the export given by --catalog; give --catalog too")
    if a.no_catalog and not a.start:
        parser.error("argument --no-catalog: every job comes from the clean events; give --start and --end")
    root = data_root(a.data_root)
    given = {k: v for k, v in (("buckets", a.token_buckets), ("title_length", a.title_length),
                               ("skill_length", a.skill_length)) if v is not None}
    return JobTableArgs(
        a.ds, None if a.no_catalog else a.catalog or root / Tables.JOB_CATALOG,
        a.out or root / Tables.JOB_SIDE_TABLE / f"ds={a.ds}",
        a.events or (root / Tables.CLEAN_EVENTS if a.start else None), a.start, a.end, a.vocab,
        TokenConfig(**given) if given else None, a.min_count, a.max_vocab, a.max_job_ids, a.catalog_mapping)


def run(spark: SparkSession, args: JobTableArgs) -> dict[str, Any]:
    """Build and write the side table and ``_vocab.json``; returns row counts and vocabulary sizes."""
    saved = load_saved_vocab(args.vocab, args.tokens) if args.vocab is not None else None  # fail before Spark work
    snapshot, described = load_snapshot(spark, args)
    if saved is None:
        vocab = build_vocab(snapshot, min_count=args.min_count, max_vocab=args.max_vocab)
        tokens, job_ids = args.tokens or TokenConfig(), None
        built = {"vocab_ds": args.ds.isoformat(), "min_count": args.min_count, "max_vocab": args.max_vocab,
                 "max_job_ids": args.max_job_ids}
    else:
        vocab, tokens, job_ids, file = saved
        built = {k: file.get(k) for k in ("vocab_ds", "min_count", "max_vocab", "max_job_ids")}
    event_jobs = read_event_jobs(spark, args.events, start=args.start, end=args.end) if args.events else None
    write_job_table(build_job_table(snapshot, event_jobs, ds=args.ds, vocab=vocab, tokens=tokens, job_ids=job_ids,
                                    max_job_ids=args.max_job_ids), args.out)
    written = pq.read_table(args.out, columns=["job_index", "job_id", "in_catalog"], partitioning=None)
    written = written.sort_by("job_index")
    in_catalog = written.column("in_catalog")
    n_catalog = pc.sum(in_catalog).as_py() or 0
    rows = {"total": len(in_catalog), "catalog": n_catalog, "padding": 1, "event_only": len(in_catalog) - n_catalog - 1}
    if job_ids is None:  # a fresh vocabulary: this table's jobs in job_index order, as assign_index numbered them
        job_ids = tuple(written.column("job_id").slice(1, args.max_job_ids).to_pylist())
    meta = {
        "snapshot_ds": args.ds.isoformat(), **built, "vocab_from": str(args.vocab) if args.vocab else None,
        **vocab.to_dict(),
        "vocab_sizes": {c: len(getattr(vocab, c)) + FIRST_VALUE_ID for c in CATEGORICAL},
        "ids": {"padding_index": PADDING_INDEX, "missing": MISSING_ID, "oov": OOV_ID, "first_value": FIRST_VALUE_ID},
        "tokens": {**asdict(tokens), "hash": "pmod(xxhash64(token), buckets) + 1; 0 = padding",
                   "skills": "one token per skill phrase: lower-cased, white space collapsed"},
        "salary_z_clip": SALARY_Z_CLIP, "rows": rows, "columns": JOB_SIDE_TABLE.names,
        "job_ids": list(job_ids), "job_id_rows": len(job_ids) + FIRST_VALUE_ID,
        "events": {"path": str(args.events), "start": str(args.start), "end": str(args.end)} if args.events else None,
        "catalog": described,
    }
    (args.out / VOCAB_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return {"out": str(args.out), **rows, "vocab_sizes": meta["vocab_sizes"], "job_id_rows": meta["job_id_rows"],
            "catalog_source": described}


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    print(json.dumps({"job": "job_table", **run(create_session("jobtrail-job-table"), args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
