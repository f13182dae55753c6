"""Prepare an evaluation dataset with the pipeline's own code: side table, timelines, examples, sequences.

    prepared = prepare(spark_factory, spec, work, examples_keys=["seq-w8", "seq-w32", "w32"])

Steps, cached under ``<work>/<name>-<spec key>/`` (``_prepared.json`` marks a complete folder):

1. raw events (+ catalogue, + ground truth for synthetic data): :func:`jobtrail.synthetic.generate.generate`,
   :func:`jobtrail.datasets.movielens.write_movielens`, or a data root's clean events and side table
   (:mod:`evaluation.own_data`). These datasets are valid by construction, so the
   per-day ingest job (validation, quarantine; benchmarked in docs/benchmarks.md) is skipped;
2. Spark, one pass: ``spark_jobs.job_table.run`` (side table of the union of the window's catalogue
   snapshots, :func:`union_catalog`), then the examples job's transforms ``sessionize`` → ``with_job_index``
   → ``daily_pools`` (random-negative pools, ``pools.json``) and ``user_sequences`` (``sequences/``: every
   user's whole timeline as one row, query tokens hashed);
3. per examples key, the examples job's cutting code (what ``spark_jobs/examples.py`` runs inside
   ``mapInArrow``) in this process — the same rows, without a Spark stage per key:

   - ``seq-w<W>``: the per-position training sequences of the dense objective (``--format sequences``;
     :func:`cut_sequences`: :func:`jobtrail.sequence_core.batch_sequences.batch_sequences` per batch), training chunks
     before ``valid_from`` and one validation row per user — the embedding as of ``valid_from`` and the
     positives until the cutoff — as ``<examples>/sequences/split=train|validation``;
   - ``w<W>[_interleaved]``: the one-target windows (``--format windows``; :func:`cut_examples`:
     ``user_timelines`` → ``user_examples``; random negatives as targets only or also in the timeline) as
     ``<examples>/examples/split=train|validation|test`` (the job's validation split cut at the cutoff into
     validation and test, :func:`write_examples`). ``w32``'s test rows are the proxy task's.

The evaluation later cuts contexts at any time from ``sequences/`` with the same window function.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluation.config import DatasetSpec
from jobtrail.contracts import JOB, RAW_EVENT, TRAINING_EXAMPLE, Tables

QUERY_TOKENS = 4
TOKEN_BUCKETS = 2**14
MARKER = "_prepared.json"


def day_us(day) -> int:
    """Microseconds since the epoch of ``day`` 00:00 UTC."""
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) * 1_000_000


@dataclass(frozen=True)
class Prepared:
    """Paths and facts of a prepared dataset."""

    spec: DatasetSpec
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def job_table(self) -> Path:
        return self.root / "job_side_table"

    @property
    def sequences(self) -> Path:
        return self.root / "sequences"

    @property
    def ground_truth(self) -> Path | None:
        path = self.raw / Tables.GROUND_TRUTH
        return path if path.exists() else None

    def examples(self, key: str) -> Path:
        return self.root / "examples" / key

    @property
    def info(self) -> dict[str, Any]:
        return json.loads((self.root / MARKER).read_text())


def _write_raw(spec: DatasetSpec, raw: Path) -> dict[str, int]:
    if spec.kind == "lake":
        from evaluation.own_data import write_raw

        return write_raw(spec, raw)
    if spec.kind == "synthetic":
        from jobtrail.synthetic.config import GeneratorConfig
        from jobtrail.synthetic.generate import generate

        return generate(GeneratorConfig(users=spec.users, days=spec.days, seed=spec.seed, start=spec.start), raw)
    from jobtrail.datasets.movielens import load_movielens_100k, write_movielens

    return write_movielens(raw, load_movielens_100k())


def union_catalog(raw: Path, out: Path, ds) -> int:
    """One snapshot at ``ds`` holding every job of the window's daily snapshots, with its latest attributes.

    The side table of the examples is built from it: built from the last day's snapshot alone, every job that
    expired earlier in the window would be id-only (all its features missing) in every context.
    """
    frame = pq.read_table(raw / Tables.JOB_CATALOG, partitioning="hive").to_pandas()
    latest = frame.sort_values(["ds", "job_id"]).drop_duplicates("job_id", keep="last").sort_values("job_id")
    table = pa.Table.from_pandas(latest[JOB.names], schema=JOB, preserve_index=False)
    folder = out / f"ds={ds}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-0.parquet")
    return table.num_rows


def write_examples(rows: list[dict], out: Path, *, cutoff_us: int, horizon_end_us: int) -> dict[str, int]:
    """Examples rows (``jobtrail.sequence_core.windows.user_examples``) as ``<out>/examples/split=train|validation|test``.

    The examples job's ``validation`` rows are cut at the cutoff: before it ``validation`` (early stopping),
    from it to the horizon's end ``test``; later ones are dropped.
    """
    from jobtrail.sequence_core.arrow_io import rows_to_table

    table = rows_to_table(rows, TRAINING_EXAMPLE)
    ts = pc.cast(pc.cast(table.column("target_ts"), pa.timestamp("us", tz="UTC")), pa.int64())
    valid = pc.equal(table.column("split"), "validation")
    masks = {"train": pc.equal(table.column("split"), "train"),
             "validation": pc.and_(valid, pc.less(ts, cutoff_us)),
             "test": pc.and_(valid, pc.and_(pc.greater_equal(ts, cutoff_us), pc.less(ts, horizon_end_us)))}
    shutil.rmtree(out / "examples", ignore_errors=True)
    counts = {}
    for split, mask in masks.items():
        folder = out / "examples" / f"split={split}"
        folder.mkdir(parents=True)
        part = table.filter(mask).drop_columns(["split"])
        pq.write_table(part, folder / "part-0.parquet")
        counts[split] = part.num_rows
    return counts


def _timelines(sequences: Path, query_tokens: int):
    """(user, timeline) of every row of ``sequences/`` (:func:`jobtrail.sequence_core.arrow_io.user_timelines`)."""
    from jobtrail.sequence_core.arrow_io import user_timelines

    for path in sorted(sequences.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
            yield from user_timelines(batch, query_tokens)


def cut_examples(sequences: Path, pools: dict[int, np.ndarray], cfg, *, valid_from_us: int) -> list[dict]:
    """Every user's examples — what ``spark_jobs/examples.py`` computes inside ``mapInArrow``, in one process:
    :func:`jobtrail.sequence_core.arrow_io.user_timelines` → :func:`jobtrail.sequence_core.windows.user_examples`."""
    from jobtrail.sequence_core.windows import user_examples

    return [row for user, tl in _timelines(sequences, cfg.query_tokens)
            for row in user_examples(user, tl, pools, cfg, valid_from_us)]


def cut_sequences(sequences: Path, pools: dict[int, np.ndarray], cfg, *, valid_from_us: int,
                  end_us: int) -> pa.Table:
    """Every user's training sequences — what ``spark_jobs/examples.py --format sequences`` computes inside
    ``mapInArrow``, in one process: :func:`jobtrail.sequence_core.batch_sequences.batch_sequences` on each batch of
    ``sequences/`` (targets of the validation row end at ``end_us``)."""
    from jobtrail.contracts import TRAINING_SEQUENCE
    from jobtrail.sequence_core.batch_sequences import batch_sequences

    tables = [batch_sequences(batch, pools, cfg, valid_from_us, end_us)
              for path in sorted(sequences.glob("*.parquet"))
              for batch in pq.ParquetFile(path).iter_batches(batch_size=4096)]
    return pa.concat_tables(tables) if tables else TRAINING_SEQUENCE.empty_table()


def write_rows(rows: list[dict] | pa.Table, folder: Path, schema: pa.Schema, step: int = 100_000) -> None:
    """Rows of ``schema`` (dicts or a table; their ``split`` column dropped) as Parquet files of ``step`` rows under
    ``folder``."""
    from jobtrail.sequence_core.arrow_io import rows_to_table

    folder.mkdir(parents=True)
    for i in range(0, max(len(rows), 1), step):
        part = rows.slice(i, step) if isinstance(rows, pa.Table) else rows_to_table(rows[i:i + step], schema)
        pq.write_table(part.drop_columns(["split"]), folder / f"part-{i // step}.parquet")


def write_sequences(table: pa.Table, out: Path) -> dict[str, int]:
    """Sequence rows (contract ``TRAINING_SEQUENCE``) as ``<out>/sequences/split=train|validation``."""
    from jobtrail.contracts import TRAINING_SEQUENCE

    shutil.rmtree(out / "sequences", ignore_errors=True)
    counts = {}
    for split in ("train", "validation"):
        part = table.filter(pc.equal(table.column("split"), split))
        write_rows(part, out / "sequences" / f"split={split}", TRAINING_SEQUENCE)
        counts[split] = part.num_rows
    return counts


def _spark_steps(spark, spec: DatasetSpec, root: Path) -> dict[str, Any]:
    """Side table, sessionized + indexed timelines → ``sequences/`` and the daily negative pools."""
    from spark_jobs import job_table
    from spark_jobs.sequences import daily_pools, user_sequences, with_job_index
    from spark_jobs.timelines import sessionize

    raw = root / "raw"
    if spec.kind == "lake":
        from evaluation.own_data import side_table

        table = side_table(spark, spec, root / "job_side_table")
    else:
        union_catalog(raw, root / "catalog", spec.end)
        table = job_table.run(spark, job_table.parse_args([
            "--ds", str(spec.end), "--catalog", str(root / "catalog"), "--out", str(root / "job_side_table"),
            "--token-buckets", str(TOKEN_BUCKETS)]))
    events = spark.read.parquet(str(raw / Tables.RAW_EVENTS)).select(*RAW_EVENT.names, "ds")
    events = events.where(events.ds.between(spec.start, spec.end))
    indexed = with_job_index(sessionize(events), spark.read.parquet(str(root / "job_side_table"))).cache()
    try:
        pools = daily_pools(indexed)
        seqs = user_sequences(indexed, query_tokens=QUERY_TOKENS, token_buckets=TOKEN_BUCKETS)
        seqs.coalesce(1).write.mode("overwrite").parquet(str(root / "sequences"))
    finally:
        indexed.unpersist()
    (root / "pools.json").write_text(json.dumps({str(d): v.tolist() for d, v in pools.items()}))
    return {"job_table": table}


def load_pools(root: Path) -> dict[int, np.ndarray]:
    return {int(d): np.asarray(v, np.int32) for d, v in json.loads((root / "pools.json").read_text()).items()}


def build_examples(root: Path, spec: DatasetSpec, key: str) -> dict[str, int]:
    """The training data of one key (``seq-w<W>``, ``w<W>[_interleaved]``) under ``<root>/examples/<key>``."""
    from jobtrail.sequence_core.chunks import SequenceConfig
    from jobtrail.sequence_core.windows import WindowConfig

    out = root / "examples" / key
    window = int(key.removeprefix("seq-")[1:].split("_")[0])
    valid_from = day_us(spec.valid_from)
    if key.startswith("seq-"):
        cfg = SequenceConfig(window=window, query_tokens=QUERY_TOKENS)
        config = {"format": "sequences", "sequence": asdict(cfg)}
        table = cut_sequences(root / "sequences", load_pools(root), cfg, valid_from_us=valid_from,
                              end_us=day_us(spec.cutoff))
        counts = write_sequences(table, out)
    else:
        cfg = WindowConfig(window=window, stride=spec.stride, negatives_in_timeline=key.endswith("_interleaved"),
                           query_tokens=QUERY_TOKENS)
        config = {"format": "windows", "window": asdict(cfg)}
        rows = cut_examples(root / "sequences", load_pools(root), cfg, valid_from_us=valid_from)
        counts = write_examples(rows, out, cutoff_us=day_us(spec.cutoff), horizon_end_us=day_us(spec.horizon_end))
    (out / "examples_meta.json").write_text(json.dumps({
        **config, "start": str(spec.start), "end": str(spec.end), "valid_from": str(spec.valid_from),
        "cutoff": str(spec.cutoff), "horizon_end": str(spec.horizon_end), "token_buckets": TOKEN_BUCKETS,
        "counts": counts}, indent=2) + "\n")
    return counts


def prepare(spark_factory, spec: DatasetSpec, work: Path, examples_keys: list[str]) -> Prepared:
    """The prepared dataset for ``spec`` under ``work`` (reused when complete; missing examples keys are added).

    ``spark_factory()`` returns the SparkSession; it is called only when the Spark steps must run.
    """
    root = Path(work) / f"{spec.name}-{spec.key()}"
    prepared = Prepared(spec, root)
    marker = root / MARKER
    if marker.exists():
        info = prepared.info
    else:
        started = time.perf_counter()
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        raw_counts = _write_raw(spec, root / "raw")
        info = _spark_steps(spark_factory(), spec, root)
        events = pq.read_table(root / "raw" / Tables.RAW_EVENTS, columns=["user_id"], partitioning="hive")
        info |= {"spec": {k: str(v) for k, v in spec.__dict__.items()}, "raw": raw_counts,
                 "events": events.num_rows, "users": len(pc.unique(events.column("user_id"))),
                 "jobs": info["job_table"]["total"] - 1, "examples": {},
                 "seconds": round(time.perf_counter() - started, 1)}
    for key in sorted(set(examples_keys) - set(info["examples"])):
        started = time.perf_counter()
        info["examples"][key] = build_examples(root, spec, key)
        info["seconds"] = round(info["seconds"] + time.perf_counter() - started, 1)
    marker.write_text(json.dumps(info, indent=2, default=str) + "\n")
    return prepared


def target_in_context(examples: Path, split: str = "test") -> dict[str, float]:
    """Per label kind: the share of examples whose target job already appears in their own context.

    On the synthetic data every apply/save/dismiss follows an impression (and a click/view) of the same job
    seconds earlier, so a model that sees those events can tell a real target from a random negative by
    "was this job just shown?": the proxy AUC against random negatives then says little about the embedding.
    """
    table = pq.read_table(examples / "examples" / f"split={split}",
                          columns=["target_job_index", "ctx_job_index", "context_length", "label_kind"])
    hits: dict[str, list[bool]] = {}
    for target, ctx, n, kind in zip(*(table.column(c).to_pylist() for c in table.column_names)):
        hits.setdefault(kind, []).append(target in ctx[:n])
    return {kind: float(np.mean(v)) for kind, v in sorted(hits.items())}
