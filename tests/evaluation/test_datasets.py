"""Dataset preparation pieces without Spark: the union catalogue and the time split of the examples."""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from eval_helpers import DAY, HOUR, timeline
from evaluation.datasets import day_us, union_catalog, write_examples
from jobtrail.contracts import JOB, Tables
from jobtrail.sequence_core.windows import WindowConfig, user_examples


def test_day_us():
    assert day_us(date(1970, 1, 2)) == DAY
    assert day_us(date(2026, 11, 1)) == int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()) * 1_000_000


def test_union_catalog_keeps_every_job_with_its_latest_attributes(tmp_path):
    for ds, rows in (("2026-10-01", [("j1", "old title"), ("j2", "expires early")]),
                     ("2026-10-02", [("j1", "new title"), ("j3", "posted late")])):
        folder = tmp_path / "raw" / Tables.JOB_CATALOG / f"ds={ds}"
        folder.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist([{"job_id": j, "title": t} for j, t in rows], schema=JOB),
                       folder / "part-0.parquet")
    assert union_catalog(tmp_path / "raw", tmp_path / "catalog", date(2026, 10, 2)) == 3
    table = pq.read_table(tmp_path / "catalog" / "ds=2026-10-02" / "part-0.parquet")
    assert dict(zip(table.column("job_id").to_pylist(), table.column("title").to_pylist())) == {
        "j1": "new title", "j2": "expires early", "j3": "posted late"}


def test_examples_are_split_in_time_at_the_cutoff(tmp_path):
    valid_from, cutoff, end = 10 * DAY, 14 * DAY, 28 * DAY
    tl = timeline([(d * DAY + HOUR, kind, 1 + d) for d, kind in
                   [(1, "view"), (2, "apply"), (5, "save"), (11, "apply"), (15, "dismiss"), (20, "apply"),
                    (30, "apply")]])
    cfg = WindowConfig(window=8, negatives_per_positive=1)
    pools = {int(d): np.arange(1, 60, dtype=np.int32) for d in tl.day}
    counts = write_examples(user_examples("u", tl, pools, cfg, valid_from), tmp_path, cutoff_us=cutoff,
                            horizon_end_us=end)
    # targets (and their random negatives): days 2, 5 → train; 11 → validation; 15, 20 → test; 30 → dropped
    assert counts == {"train": 4, "validation": 2, "test": 3}
    test = pq.read_table(tmp_path / "examples" / "split=test" / "part-0.parquet")
    assert "split" not in test.column_names
    ts = pc.cast(test.column("target_ts"), pa.int64()).to_numpy()
    assert ((ts >= cutoff) & (ts < end)).all()
