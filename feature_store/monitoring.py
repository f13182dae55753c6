"""Checks on one feature-table partition (a day × model version) before it is published.

Metrics (one row of contract ``EMBEDDING_MONITORING`` per run): one join of the partition with the earlier one
and one numpy pass over the joined Arrow batches (:func:`row_stats`), then one aggregation:

- ``rows``, ``users_scored`` (computed this run), ``carried_forward``, ``carried_stale`` (carried rows whose user
  has events at or after the carried embedding's cutoff: the embedding misses them), ``cold_start``,
  ``fallback_share`` = (stale carried + cold start) / rows. A row carried because its user had no event since
  the embedding was computed (``infer --mode incremental``, most users on most days) is as fresh as a
  recomputation and is not a fallback here;
- ``active_users`` (distinct users with clean events on the ``active_days`` days before the cutoff),
  ``active_covered`` (those with a row), ``coverage`` = covered / active (null when nobody was active);
- ``nan_rows``: rows whose embedding is null, has the wrong size, or holds a NaN / ±inf / null value;
- ``norm_p00 … norm_p100``: L2-norm quantiles of the valid, non-cold-start embeddings;
- day-over-day cosine per user against the latest earlier partition of the **same model name and version**
  (a new version is compared only with itself: its first day has no cosine), quantiles split by active
  users (events since the earlier run's cutoff) and inactive users; ``cos_median_checked`` is the median
  over users recomputed this run (carried-forward rows are trivially identical and left out);
- ``staleness_histogram``: as_of_ts − last_event_ts in buckets ``<1d``, ``1-7d``, ``7-30d``, ``30-90d``,
  ``>=90d`` and ``none``;
- collapse, on a fixed sample of computed users (the first ``sample_users`` by a hash of the user id):
  ``sample_cos_p05`` / ``sample_cos_p50``, quantiles of the cosine between every two users of the sample (a
  model that gives everyone the same vector has p05 ≈ 1), and, when the model and its job side table are
  given, ``top10_distinct`` — how many distinct jobs the sample's top-10 lists hold — and
  ``top10_distinct_share`` = that / min(10 × sample, catalogue) (a popularity-like model recommends the same
  ten jobs to everyone: a share near 10 / (10 × sample)).

Checks (:class:`Thresholds`, all configurable) and their names in ``failed_checks`` and error messages:
``rows`` (at least ``min_rows``), ``nan`` (at most ``max_nan_rows``), ``coverage`` (at least
``min_coverage``), ``cosine_collapse`` (median at least ``min_median_cosine``), ``fallback_share`` (at most
``max_fallback_share``: a day where most rows miss their users' events — carried over newer events or cold
start — publishes old or empty vectors), ``embedding_collapse`` (``sample_cos_p05`` at most ``max_sample_cosine_p05``) and ``top10_diversity``
(``top10_distinct_share`` at least ``min_top10_distinct_share``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from feature_store.compact import decode_arrow
from jobtrail.errors import JobtrailError

STALENESS_BUCKETS = ((1, "<1d"), (7, "1-7d"), (30, "7-30d"), (90, "30-90d"), (None, ">=90d"))
NORM_QUANTILES = (0, 5, 50, 95, 100)


class MonitoringFailed(JobtrailError):
    """A feature-table partition failed one or more monitoring checks; it must not be published."""


@dataclass(frozen=True)
class Thresholds:
    max_nan_rows: int = 0
    min_coverage: float = 0.95
    min_median_cosine: float = 0.5
    min_rows: int = 1
    max_fallback_share: float = 0.5
    max_sample_cosine_p05: float = 0.99
    min_top10_distinct_share: float = 0.05

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def l2_norm(embedding: Column) -> Column:
    return F.sqrt(F.aggregate(embedding, F.lit(0.0).cast("double"), lambda acc, x: acc + x.cast("double") * x))


def cosine(a: Column, b: Column) -> Column:
    """Cosine similarity; null when either vector is all zeros (no direction: e.g. the per-action mean of a user
    whose events are all searches), so it is left out of the quantiles instead of failing the job."""
    dot = F.aggregate(F.zip_with(a, b, lambda x, y: x.cast("double") * y), F.lit(0.0).cast("double"), lambda acc, v: acc + v)
    return F.try_divide(dot, l2_norm(a) * l2_norm(b))


def _quantiles(column: Column, qs: tuple[float, ...]) -> Column:
    return F.percentile_approx(column, list(qs), 10_000)


def _rows_of(embeddings: pa.ListArray, dims: np.ndarray) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """(bad [n], {dimension: (row numbers, [rows, dimension] float64 matrix)}) of a batch's embeddings.

    Bad: a null list, a length other than the row's ``embedding_dim``, or a
    null / NaN / ±inf value. The good rows are gathered per dimension into dense matrices.
    """
    offsets = embeddings.offsets.to_numpy()
    flat = np.asarray(pc.fill_null(embeddings.values, np.nan).to_numpy(zero_copy_only=False), np.float64)
    nonfinite = np.concatenate([[0], np.cumsum(~np.isfinite(flat))])
    bad = (np.asarray(embeddings.is_null().to_numpy(zero_copy_only=False), bool)
           | (np.diff(offsets) != dims) | (nonfinite[offsets[1:]] - nonfinite[offsets[:-1]] > 0))
    good = {}
    for dim in np.unique(dims[~bad]):
        rows = np.flatnonzero(~bad & (dims == dim))
        good[int(dim)] = rows, flat[offsets[rows, None] + np.arange(dim)]
    return bad, good


_STAT_FIELDS = [("_bad", "boolean"), ("_norm", "double"), ("_paired", "boolean"), ("_cos", "double")]
_EMBEDDINGS = {f"{side}{suffix}" for side in ("_a", "_b") for suffix in ("", "_q", "_scale")}
"""The stored embedding columns of today (``_a``) and the earlier day (``_b``) inside :func:`row_stats`."""


def _stored(df: DataFrame, name: str, keep: Column | None = None) -> list[Column]:
    """``df``'s stored embedding columns renamed to ``name`` (float32: ``name``; int8: ``name_q``, ``name_scale``),
    null where ``keep`` is false. Decoding waits for numpy (:func:`_float_lists`): Spark's per-element
    ``transform`` took ~20 s per 610,000-row partition, the numpy decode of a batch a few milliseconds."""
    columns = [(c, c.replace("embedding", name)) for c in ("embedding", "embedding_q", "embedding_scale") if c in df.columns]
    return [(F.when(keep, F.col(c)) if keep is not None else F.col(c)).alias(alias) for c, alias in columns]


def _float_lists(batch: pa.RecordBatch, name: str) -> pa.ListArray:
    """The float embeddings stored under ``name`` in ``batch`` (int8 storage decoded as every reader decodes it)."""
    if name in batch.schema.names:
        return batch.column(name)
    stored = pa.table({"embedding_q": batch.column(f"{name}_q"), "embedding_scale": batch.column(f"{name}_scale")})
    return decode_arrow(stored).column("embedding").combine_chunks()


def _row_stats(batches):
    """mapInArrow: each row's validity, norm and cosine with the previous day's embedding ``_b`` (numpy)."""
    for batch in batches:
        n = batch.num_rows
        dims = batch.column("embedding_dim").to_numpy(zero_copy_only=False).astype(np.int64)
        bad, today = _rows_of(_float_lists(batch, "_a"), dims)
        prev_bad, before = _rows_of(_float_lists(batch, "_b"), dims)
        norm, cos = np.full(n, np.nan), np.full(n, np.nan)
        paired = ~bad & ~prev_bad & batch.column("_usable").to_numpy(zero_copy_only=False).astype(bool)
        for dim, (rows, a) in today.items():
            norm[rows] = np.sqrt(np.einsum("ij,ij->i", a, a))
            if dim not in before:
                continue
            prev_rows, b = before[dim]
            both, ia, ib = np.intersect1d(rows, prev_rows, return_indices=True)
            denominator = norm[both] * np.sqrt(np.einsum("ij,ij->i", b[ib], b[ib]))
            dot = np.einsum("ij,ij->i", a[ia], b[ib])
            with np.errstate(invalid="ignore", divide="ignore"):
                cos[both] = np.where(denominator > 0, dot / denominator, np.nan)  # no direction: left out
        cos[~paired] = np.nan
        passed = [c for c in batch.schema.names if c not in _EMBEDDINGS]
        yield pa.RecordBatch.from_arrays(
            [*(batch.column(c) for c in passed), pa.array(bad), pa.array(norm, from_pandas=True), pa.array(paired),
             pa.array(cos, from_pandas=True)], names=passed + [f for f, _ in _STAT_FIELDS])


def row_stats(today: DataFrame, previous: DataFrame | None) -> DataFrame:
    """One row per row of ``today``: user_id, is_fallback, embedding_as_of_date, the staleness inputs, ``_bad``,
    ``_norm``, and against ``previous`` (the same version's earlier partition, or None) ``_paired`` / ``_cos`` /
    ``_prev_cutoff``. Both frames as stored (float32 or int8: decoded in the numpy pass, never by Spark). One
    join and one numpy pass, no per-element SQL functions."""
    keep = ["user_id", "is_fallback", "embedding_as_of_date", "last_event_ts", "as_of_ts", "embedding_dim"]
    base = today.select(*keep, *_stored(today, "_a"))
    if previous is None:
        joined = base.select("*", F.lit(None).cast("array<float>").alias("_b"),
                             F.lit(None).cast("timestamp").alias("_prev_cutoff"))
        usable = F.lit(False)
    else:
        has_embedding = F.col("embedding_as_of_date").isNotNull()  # a cold start's zeros are no embedding
        before = previous.select("user_id", *_stored(previous, "_b", has_embedding),
                                 F.col("as_of_ts").alias("_prev_cutoff"), has_embedding.alias("_had"))
        joined = base.join(before, "user_id", "left")
        usable = F.coalesce(F.col("_had"), F.lit(False))
    joined = joined.withColumn("_usable", F.col("embedding_as_of_date").isNotNull() & usable).drop("_had")
    schema = ", ".join([f"{f.name} {f.dataType.simpleString()}" for f in joined.schema.fields
                        if f.name not in _EMBEDDINGS] + [f"{n} {t}" for n, t in _STAT_FIELDS])
    return joined.mapInArrow(_row_stats, schema)


def partition_metrics(stats: DataFrame, active_users: DataFrame) -> dict[str, Any]:
    """The metrics of one partition from its :func:`row_stats` (see the module docstring), in one aggregation;
    ``active_users``: a DataFrame with a ``user_id`` column (duplicates allowed)."""
    cold = F.col("is_fallback") & F.col("embedding_as_of_date").isNull()
    carried = F.col("is_fallback") & F.col("embedding_as_of_date").isNotNull()
    stale = carried & F.coalesce(F.col("last_event_ts") >= F.col("embedding_as_of_date").cast("timestamp"), F.lit(False))
    days = (F.unix_micros("as_of_ts") - F.unix_micros("last_event_ts")) / F.lit(86_400e6)
    bucket = F.when(F.col("last_event_ts").isNull(), "none")
    for high, name in STALENESS_BUCKETS:
        bucket = bucket.when(days < high, name) if high is not None else bucket.otherwise(name)
    names = [name for _, name in STALENESS_BUCKETS] + ["none"]
    active = F.coalesce(F.col("last_event_ts") >= F.col("_prev_cutoff"), F.lit(False))
    groups, quantiles = (("active", True), ("inactive", False)), (0.05, 0.5, 0.95)
    first = stats.select("*", cold.alias("_cold"), carried.alias("_carried"), stale.alias("_stale"),
                         bucket.alias("_bucket"), active.alias("_active")).agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_if(~F.col("is_fallback")).alias("users_scored"),
        F.count_if("_carried").alias("carried_forward"),
        F.count_if("_stale").alias("carried_stale"),
        F.count_if("_cold").alias("cold_start"),
        F.count_if("_bad").alias("nan_rows"),
        _quantiles(F.when(~F.col("_bad") & ~F.col("_cold"), F.col("_norm")),
                   tuple(q / 100 for q in NORM_QUANTILES)).alias("norms"),
        *[F.count_if(F.col("_bucket") == name).alias(f"_h{i}") for i, name in enumerate(names)],
        *[F.count_if(F.col("_paired") & (F.col("_active") == flag)).alias(f"cos_{g}_pairs") for g, flag in groups],
        *[_quantiles(F.when(F.col("_active") == flag, F.col("_cos")), quantiles).alias(f"_{g}") for g, flag in groups],
        F.percentile_approx(F.when(~F.col("is_fallback"), F.col("_cos")), 0.5, 10_000).alias("cos_median_checked"),
        F.count_if("_paired").alias("_pairs"),
    ).first()
    metrics: dict[str, Any] = {k: int(first[k]) for k in
                               ("rows", "users_scored", "carried_forward", "carried_stale", "cold_start", "nan_rows")}
    fallbacks = metrics["carried_stale"] + metrics["cold_start"]
    metrics["fallback_share"] = fallbacks / metrics["rows"] if metrics["rows"] else None
    norms = first.norms or [None] * len(NORM_QUANTILES)
    metrics |= {f"norm_p{q:02d}": (float(v) if v is not None else None) for q, v in zip(NORM_QUANTILES, norms)}
    metrics["staleness_histogram"] = {name: int(first[f"_h{i}"]) for i, name in enumerate(names)}
    for group, _ in groups:
        metrics[f"cos_{group}_pairs"] = int(first[f"cos_{group}_pairs"])
        values = first[f"_{group}"] or [None] * 3
        metrics |= {f"cos_{group}_{n}": v for n, v in zip(("p05", "p50", "p95"), values)}
    metrics["cos_median_checked"] = first.cos_median_checked

    users = active_users.select("user_id").distinct()
    covered = users.join(stats.select("user_id", F.lit(True).alias("_has_row")), "user_id", "left").agg(
        F.count(F.lit(1)).alias("active"), F.count_if(F.col("_has_row").isNotNull()).alias("covered")).first()
    metrics["active_users"], metrics["active_covered"] = int(covered.active), int(covered.covered)
    metrics["coverage"] = covered.covered / covered.active if covered.active else None
    return metrics


def sample_metrics(sample: np.ndarray, top_lists: np.ndarray | None = None, n_jobs: int | None = None) -> dict[str, Any]:
    """Collapse figures of a user sample: ``sample`` [n, D] embeddings, ``top_lists`` [n, 10] their top-10 job
    indices (None when the model is not at hand), ``n_jobs`` the catalogue size (padding row excluded)."""
    out: dict[str, Any] = {"sample_users": int(len(sample)), "sample_cos_p05": None, "sample_cos_p50": None,
                           "top10_distinct": None, "top10_distinct_share": None}
    sample = np.asarray(sample, np.float64).reshape(len(sample), -1)
    norms = np.linalg.norm(sample, axis=1)
    unit = sample[norms > 0] / norms[norms > 0, None]  # an all-zero vector has no direction
    if len(unit) >= 2:
        cosines = (unit @ unit.T)[np.triu_indices(len(unit), k=1)]
        out["sample_cos_p05"], out["sample_cos_p50"] = (float(v) for v in np.quantile(cosines, [0.05, 0.5]))
    if top_lists is not None and len(top_lists):
        distinct = int(np.unique(top_lists).size)
        out["top10_distinct"] = distinct
        out["top10_distinct_share"] = distinct / max(1, min(top_lists.size, n_jobs or top_lists.size))
    return out


def evaluate(metrics: dict[str, Any], thresholds: Thresholds) -> list[tuple[str, str]]:
    """The failed checks as (name, message); empty when the partition may be published."""
    failed = []
    if metrics["rows"] < thresholds.min_rows:
        failed.append(("rows", f"{metrics['rows']} rows, at least {thresholds.min_rows} expected"))
    if metrics["nan_rows"] > thresholds.max_nan_rows:
        failed.append(("nan", f"{metrics['nan_rows']} rows with NaN/inf/null values or a wrong dimension "
                              f"(at most {thresholds.max_nan_rows} allowed)"))
    if metrics["coverage"] is not None and metrics["coverage"] < thresholds.min_coverage:
        failed.append(("coverage", f"{metrics['active_covered']} of {metrics['active_users']} active users have a row "
                                   f"(coverage {metrics['coverage']:.3f} < floor {thresholds.min_coverage})"))
    median = metrics["cos_median_checked"]
    if median is not None and median < thresholds.min_median_cosine:
        failed.append(("cosine_collapse", f"median day-over-day cosine {median:.3f} < {thresholds.min_median_cosine} "
                                          "(same model version): embeddings no longer match their users"))
    share = metrics["fallback_share"]
    if share is not None and share > thresholds.max_fallback_share:
        unchanged = metrics["carried_forward"] - (metrics.get("carried_stale") or 0)
        failed.append(("fallback_share", f"fallback share {share:.3f} > {thresholds.max_fallback_share}: "
                                          f"{metrics.get('carried_stale')} rows carried forward over newer events and "
                                          f"{metrics['cold_start']} cold starts ({unchanged} more carried unchanged: no "
                                          "event since their embedding); check the inference inputs' lookback and "
                                          "--min-events"))
    p05 = metrics.get("sample_cos_p05")
    if p05 is not None and p05 > thresholds.max_sample_cosine_p05:
        failed.append(("embedding_collapse", f"95% of the pairs of {metrics['sample_users']} sampled users have a cosine "
                                             f"above {p05:.4f} > {thresholds.max_sample_cosine_p05}: the model gives "
                                             "everyone nearly the same vector; check its training run"))
    diversity = metrics.get("top10_distinct_share")
    if diversity is not None and diversity < thresholds.min_top10_distinct_share:
        failed.append(("top10_diversity", f"the top-10 lists of {metrics['sample_users']} sampled users hold "
                                          f"{metrics['top10_distinct']} distinct jobs (share {diversity:.4f} < "
                                          f"{thresholds.min_top10_distinct_share}): the model recommends the same jobs "
                                          "to everyone; compare it with the popularity ranking"))
    return failed


def render_markdown(row: dict[str, Any], failures: list[tuple[str, str]]) -> str:
    """A readable report of one monitoring row."""
    def fmt(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else ("—" if value is None else str(value))

    head = (f"# Embedding monitoring — {row['as_of_date']} — {row['model_name']} v{row['model_version']}\n\n"
            f"**Status: {row['status'].upper()}** (run `{row['run_id']}`, checked {row['checked_at']}, compared with "
            f"{row['previous_as_of_date'] or 'no earlier partition of this version'})\n")
    checks = "\n".join(f"- ❌ `{name}`: {message}" for name, message in failures) or "- ✅ every check passed"
    skip = {"run_id", "as_of_date", "model_name", "model_version", "checked_at", "status", "failed_checks",
            "previous_as_of_date", "staleness_histogram", "thresholds"}
    table = "\n".join(f"| {k} | {fmt(v)} |" for k, v in row.items() if k not in skip)
    hist = " | ".join(f"{k}: {v}" for k, v in row["staleness_histogram"].items())
    return (f"{head}\n## Checks\n\n{checks}\n\nThresholds: `{row['thresholds']}`\n\n## Metrics\n\n| metric | value |\n"
            f"|---|---|\n{table}\n\n## Staleness (as-of − last event)\n\n{hist}\n")
