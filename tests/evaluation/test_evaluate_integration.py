"""End to end with Spark and TensorFlow (slow: marked integration).

- the training data the evaluation cuts in one process (one-target windows and per-position sequences) are
  exactly those ``spark_jobs/examples.py`` writes;
- ``jobtrail evaluate`` on a tiny configuration trains, measures and writes the report with its plots.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from evaluation import datasets
from evaluation.config import SMALL, DatasetSpec, TrainSpec

pytestmark = pytest.mark.integration

START = date(2026, 10, 1)
SPEC = DatasetSpec(name="synthetic", kind="synthetic", users=300, start=START, end=START + timedelta(days=19),
                   valid_from=START + timedelta(days=8), cutoff=START + timedelta(days=12), horizon_days=7)


@pytest.fixture(scope="module")
def prepared(spark, tmp_path_factory):
    work = tmp_path_factory.mktemp("eval_work")
    return work, datasets.prepare(lambda: spark, SPEC, work / "data", ["w8", "w8_interleaved", "seq-w8"])


def _spark_examples(spark, p, out, *argv: str) -> None:
    from jobtrail.contracts import RAW_EVENT, Tables
    from spark_jobs import examples
    from spark_jobs.common import write_days
    from spark_jobs.timelines import sessionize

    events = spark.read.parquet(str(p.raw / Tables.RAW_EVENTS)).select(*RAW_EVENT.names, "ds")
    write_days(sessionize(events), out / "timelines", SPEC.start, SPEC.end)
    examples.run(spark, examples.parse_args([
        "--start", str(SPEC.start), "--end", str(SPEC.end), "--valid-from", str(SPEC.valid_from),
        "--timelines", str(out / "timelines"), "--job-table", str(p.job_table), "--out", str(out / "ex"),
        "--window", "8", "--token-buckets", str(datasets.TOKEN_BUCKETS), *argv]))


@pytest.mark.parametrize("key", ["w8", "w8_interleaved"])
def test_examples_match_the_spark_examples_job(spark, prepared, tmp_path, key):
    _, p = prepared
    _spark_examples(spark, p, tmp_path, "--format", "windows", *(["--negatives-in-timeline"] if "interleaved" in key else []))
    theirs = pq.read_table(tmp_path / "ex" / "examples", partitioning="hive")
    ours = pq.read_table(p.examples(key) / "examples", partitioning="hive")
    ts = pc.cast(pc.cast(theirs.column("target_ts"), pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy()
    in_horizon = ts < datasets.day_us(SPEC.horizon_end)  # the evaluation drops targets after the horizon
    theirs = theirs.filter(in_horizon).sort_by("example_id")
    ours = ours.sort_by("example_id")
    assert theirs.num_rows == ours.num_rows > 100
    for column in ("example_id", "target_job_index", "label", "label_kind", "ctx_job_index", "ctx_event_type",
                   "ctx_query_tokens", "context_length"):
        assert theirs.column(column).to_pylist() == ours.column(column).to_pylist(), column
    np.testing.assert_allclose(np.concatenate(theirs.column("ctx_log_gap").to_pylist()),
                               np.concatenate(ours.column("ctx_log_gap").to_pylist()), rtol=1e-6)
    split = pc.if_else(pc.equal(ours.column("split"), "test"), "validation", ours.column("split"))
    assert split.to_pylist() == theirs.column("split").to_pylist()


def test_sequences_match_the_spark_examples_job(spark, prepared, tmp_path):
    _, p = prepared
    _spark_examples(spark, p, tmp_path, "--format", "sequences")
    theirs = pq.read_table(tmp_path / "ex" / "sequences" / "split=train").sort_by("sequence_id")
    ours = pq.read_table(p.examples("seq-w8") / "sequences" / "split=train").sort_by("sequence_id")
    assert theirs.num_rows == ours.num_rows > 50
    for column in ("sequence_id", "ctx_job_index", "ctx_event_type", "context_length", "next_job_index",
                   "future_job_index", "negative_job_index", "negative_weight"):
        assert theirs.column(column).to_pylist() == ours.column(column).to_pylist(), column
    # validation: the same users' rows as of valid_from; the evaluation's targets stop at the cutoff
    valid = pq.read_table(p.examples("seq-w8") / "sequences" / "split=validation")
    assert 0 < valid.num_rows <= pq.read_table(tmp_path / "ex" / "sequences" / "split=validation").num_rows


def test_evaluate_writes_the_report(prepared, tmp_path):
    from evaluation.cli import EvalArgs, parse_args, run

    work, _ = prepared
    cfg = replace(SMALL, datasets=(SPEC,), train={"synthetic": TrainSpec(epochs=1, embedding_dim=8, filters=8)},
                  models=("mean", "cnn"), windows=(8, 32), seeds=(1,), amazon=None)
    doc = tmp_path / "docs" / "evaluation.md"
    results = run(EvalArgs(work=work, doc=doc), cfg)
    assert [r["variant"] for r in results["rows"]] == ["mean-w32", "cnn-w32", "cnn-w8"]
    row = results["rows"][0]
    assert 0.0 <= row["proxy"]["auc"] <= 1.0 and row["storage"]["float32_bytes"] == 3 * 8 * 4
    assert set(row["freshness"]) == {"per_event", "hourly", "daily", "weekly", "once"}
    text = doc.read_text()
    assert "## Findings of the source write-ups" in text and "## synthetic" in text
    assert (doc.parent / "evaluation" / "window_curve.png").exists()
    again = run(EvalArgs(work=work, doc=doc, report_only=True), cfg)  # re-render from results.json
    assert again["rows"] == results["rows"] and parse_args(["--report-only"]).report_only
