"""Users with one to three events — most users of a real job platform — get a computed embedding, and different
histories give different recommendations: the causal models embed any prefix (the training minimum selects
training material only). End to end on the chain's data: sequences → dense training → inference inputs of a
thinned copy of the events (each user keeps 1–3 events) → batch inference into the feature table.

Run: ``.venv/bin/python -m pytest tests/spark_jobs/test_sparse_users.py -q``
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import numpy as np
import pytest
from pyspark.sql import Window
from pyspark.sql import functions as F

from chain_dates import END, START, VALID_FROM

pytestmark = pytest.mark.integration

SMALL_MODEL = ["--batch-size", "32", "--learning-rate", "5e-3", "--embedding-dim", "16", "--d-model", "16",
               "--heads", "1", "--layers", "1", "--seed", "3", "--epochs", "15", "--patience", "15", "--no-mlflow"]


def test_users_with_one_to_three_events_are_computed_and_told_apart(spark, chain, tmp_path):
    """The transformer: computed rows for everyone and distinct top-10 lists; then every aggregator through
    ``spark_jobs/infer.py`` into a feature table of its own."""
    from evaluation.embedder import Embedder
    from feature_store.readers import read_pandas
    from spark_jobs import examples, infer, inference_inputs
    from tf_models.train import parse_args, run

    ex = tmp_path / "examples"
    shutil.copytree(chain.job_table, ex / "job_side_table")
    examples.run(spark, examples.parse_args([
        "--start", str(START), "--end", str(END), "--valid-from", str(VALID_FROM), "--out", str(ex),
        "--timelines", str(chain.timelines), "--window", "8"]))
    model_dir = run(parse_args(["--model", "transformer", "--examples", str(ex), "--out", str(tmp_path / "run"),
                                *SMALL_MODEL]))["model_dir"]

    clean = spark.read.format("delta").load(str(chain.clean))
    first = Window.partitionBy("user_id").orderBy("ts", "event_id")
    sparse = (clean.withColumn("keep", 1 + F.pmod(F.xxhash64("user_id"), F.lit(3)))
              .withColumn("n", F.row_number().over(first)).where("n <= keep").drop("keep", "n"))
    sparse.write.format("delta").partitionBy("ds").save(str(tmp_path / "sparse_events"))
    as_of = END + timedelta(days=1)
    inference_inputs.run(spark, inference_inputs.parse_args([
        "--as-of", str(as_of), "--lookback-days", "14", "--job-table", str(ex / "job_side_table"),
        "--events", str(tmp_path / "sparse_events"), "--out", str(tmp_path / "inputs"), "--state",
        str(tmp_path / "state"), "--window", "8"]))
    infer.run(spark, infer.parse_args([
        "--as-of", str(as_of), "--model", model_dir, "--job-table", str(ex / "job_side_table"),
        "--inputs", str(tmp_path / "inputs"), "--out", str(tmp_path / "features"), "--model-version", "1"]))

    inputs = spark.read.format("delta").load(str(tmp_path / "inputs")).toPandas().set_index("user_id").sort_index()
    assert inputs.n_events.between(1, 3).all() and (inputs.n_events == 1).any()
    features = read_pandas(tmp_path / "features").set_index("user_id").sort_index()
    assert list(features.index) == list(inputs.index)  # every user with an event has a row …
    assert not features.is_fallback.any()  # … computed by the model, never a fallback
    embeddings = np.stack(features.embedding.to_numpy()).astype(np.float32)
    assert np.abs(embeddings).sum(axis=1).min() > 0

    top = Embedder(model_dir, ex / "job_side_table").scores(embeddings)[:, 1:].argsort(axis=1)[:, ::-1][:, :10]
    histories = [tuple(j[:n]) + tuple(t[:n]) for j, t, n in
                 zip(inputs.ctx_job_index, inputs.ctx_event_type, inputs.context_length)]
    distinct_histories = {h: i for i, h in enumerate(histories)}
    lists = [tuple(sorted(top[i])) for i in distinct_histories.values()]
    largest = max(lists.count(x) for x in set(lists))
    assert len(distinct_histories) > 50
    # no collapse onto one popular list: different histories mostly get different top-10 jobs
    assert len(set(lists)) >= 0.5 * len(distinct_histories) and largest <= 0.1 * len(lists), (
        len(set(lists)), len(distinct_histories), largest)

    # monitoring ranks a sample's top-10 jobs with the same model: this partition passes, the same rows with
    # everyone's vector replaced by one user's (a collapsed model) fail both collapse checks
    from feature_store.monitoring import MonitoringFailed
    from spark_jobs import monitor

    def monitored(features_dir):  # the only model version written that day
        return monitor.parse_args([
            "--as-of", str(as_of), "--features", str(features_dir), "--events", str(tmp_path / "sparse_events"), "--out", str(tmp_path / "monitoring"),
            "--report-dir", str(tmp_path / "reports"), "--model", model_dir, "--job-table",
            str(ex / "job_side_table"), "--min-coverage", "0"])

    healthy = monitor.run(spark, monitored(tmp_path / "features"))
    assert healthy["status"] == "pass" and healthy["sample_users"] == min(200, len(features))
    assert healthy["top10_distinct"] > 20 and healthy["sample_cos_p05"] < 0.99
    one = spark.read.format("delta").load(str(tmp_path / "features")).limit(1).select("embedding").first().embedding
    (spark.read.format("delta").load(str(tmp_path / "features"))
     .withColumn("embedding", F.array(*[F.lit(float(x)) for x in one])).withColumn("model_version", F.lit("9"))
     .write.format("delta").partitionBy("as_of_date").save(str(tmp_path / "collapsed")))
    with pytest.raises(MonitoringFailed, match="check 'embedding_collapse' failed.*check 'top10_diversity' failed: "
                                               "the top-10 lists of .* sampled users hold 10 distinct jobs"):
        monitor.run(spark, monitored(tmp_path / "collapsed"))

    # every other aggregator trains on the same sequences, exports and runs through batch inference unchanged
    for aggregator in ("mean", "decay", "cnn", "multiseq"):
        other = run(parse_args(["--model", aggregator, "--examples", str(ex), "--out", str(tmp_path / aggregator),
                                *SMALL_MODEL[:-5], "--epochs", "1", "--no-mlflow"]))["model_dir"]
        infer.run(spark, infer.parse_args([
            "--as-of", str(as_of), "--model", other, "--job-table", str(ex / "job_side_table"),
            "--inputs", str(tmp_path / "inputs"), "--out", str(tmp_path / f"features_{aggregator}"),
            "--model-name", aggregator, "--model-version", "1"]))
        rows = read_pandas(tmp_path / f"features_{aggregator}").set_index("user_id").sort_index()
        assert list(rows.index) == list(inputs.index) and not rows.is_fallback.any(), aggregator
        assert np.isfinite(np.stack(rows.embedding.to_numpy())).all(), aggregator
