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
            "--events", str(chain.clean), "--out", str(out), "--window", "8", "--min-events", "4",
            "--state", str(tmp_path / "state")]
    default = inference_inputs.parse_args(argv[:-4])
    assert default.window.min_events == 1  # by default every user with an event is computed
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
    assert counts == {"users": len(rows), "below_min_events": int(rows.below_min_events.sum()),
                      "state": {"as_of": str(AS_OF), "source": "rebuild", "from": None, "days_folded": 9}}
    for n, times in zip(rows.context_length, rows.ctx_log_time_to_target):
        assert (times[:n] > 0).all()

    inference_inputs.run(spark, inference_inputs.parse_args(argv))  # rerun replaces the partition
    assert spark.read.format("delta").load(str(out)).count() == len(rows)


def test_golden_rows(spark):
    import pandas as pd
    from pyspark.testing import assertDataFrameEqual

    from jobtrail.sequence_core.windows import WindowConfig
    from spark_jobs.sequences import user_sequences, with_job_index
    from spark_jobs.timelines import sessionize

    rows = pd.DataFrame({
        "event_id": ["e1", "e2", "e3", "e4"], "user_id": ["u1", "u1", "u1", "u2"],
        "event_type": ["view", "apply", "view", "save"], "job_id": ["j1", "j1", "j2", "j2"], "query": None,
        "ts": pd.to_datetime(["2026-10-09 08:00:00", "2026-10-09 08:10:00", "2026-10-10 00:00:00", "2026-10-09 23:59:59"], utc=True),
        "channel": "search",
    })
    rows["ds"] = rows.ts.dt.date
    side = spark.createDataFrame([("j1", 1), ("j2", 2)], "job_id string, job_index int")
    before = spark.createDataFrame(rows).where(F.col("ts") < F.lit(datetime(2026, 10, 10)))  # the job's lookback read
    seqs = user_sequences(with_job_index(sessionize(before), side), query_tokens=4, token_buckets=2**14)
    got = inference_inputs.user_inputs(seqs, as_of=AS_OF, cfg=WindowConfig(window=8, min_events=2))
    expected = spark.createDataFrame(
        [("u1", [1, 1, 0, 0, 0, 0, 0], 2, 2, datetime(2026, 10, 9, 8, 10), False),
         ("u2", [2, 0, 0, 0, 0, 0, 0], 1, 1, datetime(2026, 10, 9, 23, 59, 59), True)],
        "user_id string, ctx_job_index array<int>, context_length int, n_events long, last_event_ts timestamp, "
        "below_min_events boolean",
    )
    assertDataFrameEqual(got.select(*expected.columns), expected)
