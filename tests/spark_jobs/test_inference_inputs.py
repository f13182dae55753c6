"""Inference inputs: only events strictly before the cutoff, users below the minimum flagged, reruns replace."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from pyspark.sql import functions as F

from jobtrail.contracts import INFERENCE_INPUT
from spark_jobs import inference_inputs

AS_OF = date(2026, 10, 10)


def test_inputs_use_only_events_before_the_cutoff(spark, chain, tmp_path):
    out = tmp_path / "inputs"
    argv = ["--as-of", str(AS_OF), "--lookback-days", "7", "--job-table", str(chain.job_table),
            "--events", str(chain.clean), "--out", str(out), "--window", "8"]
    counts = inference_inputs.run(spark, inference_inputs.parse_args(argv))
    got = spark.read.format("delta").load(str(out))
    assert set(got.columns) == set(INFERENCE_INPUT.names)
    rows = got.toPandas().set_index("user_id")

    cutoff = pd.Timestamp(datetime(2026, 10, 10))  # Spark hands pandas naive UTC timestamps
    events = spark.read.format("delta").load(str(chain.clean)).where(
        F.col("ds").between(F.lit(date(2026, 10, 3)), F.lit(date(2026, 10, 9)))).toPandas()
    expected_n = events.groupby("user_id").size()
    assert rows.n_events.to_dict() == expected_n.to_dict()  # every active user, none dropped
    last = events.groupby("user_id").ts.max()
    assert (rows.last_event_ts == last.reindex(rows.index)).all()
    assert (rows.last_event_ts < cutoff).all()
    assert (rows.context_length == rows.n_events.clip(upper=7)).all()
    assert (rows.below_min_events == (rows.n_events < 4)).all() and rows.below_min_events.any()
    assert counts == {"users": len(rows), "below_min_events": int(rows.below_min_events.sum())}
    for n, times in zip(rows.context_length, rows.ctx_log_time_to_target):
        assert (times[:n] > 0).all()

    inference_inputs.run(spark, inference_inputs.parse_args(argv))  # rerun replaces the partition
    assert spark.read.format("delta").load(str(out)).count() == len(rows)
