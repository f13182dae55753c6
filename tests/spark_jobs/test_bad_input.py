"""Bad input the ingest tests do not already cover, and odd users through timelines → examples → inference inputs.

Already proved in test_ingest.py (each records its reliability rows there): malformed JSON/CSV lines, nulls in
required fields, unknown event types, future and pre-floor timestamps, non-UTC offsets, duplicates across two
files, extra and renamed columns, int user ids, an empty day. Here: Parquet files of one day that differ in
columns or in a column's type, blank-looking ids, unicode and very long queries, a user with one event, one user
with 100,000 events, and events on jobs missing from the catalogue.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from jobtrail.contracts import RAW_EVENT, Tables, with_partition
from jobtrail.errors import DataContractError
from jobtrail.generated_docs import PeakMemory
from spark_jobs import examples, inference_inputs, job_table, timelines
from spark_jobs.common import read_delta
from spark_jobs.ingest import CLEAN_SCHEMA, clean_events, outcomes, quarantine_rows
from spark_jobs.ingest_config import IngestArgs, IngestConfig
from spark_jobs.ingest_counts import IngestCounts
from spark_jobs.sequences import with_job_index
from spark_jobs.tokens import query_token_ids

from chain_dates import END
from test_ingest import D2, ingest, local, t, write_lines  # noqa: E402

UTC = timezone.utc
AREA = "bad input"
EVENTS = pa.schema([*RAW_EVENT, pa.field("ds", pa.date32())])


def ts_array(*values: datetime) -> pa.Array:
    return pa.array(values, pa.timestamp("us", tz="UTC"))


def ingest_steps(spark, path, config: IngestConfig = IngestConfig()) -> tuple[IngestCounts, list, list]:
    """The ingest job's steps for day D2 without its Delta writes (``run`` is covered by test_ingest.py):
    reconciled counts, the clean rows and the quarantine rows exactly as the job would write them."""
    unused = Path("/nonexistent")
    args = IngestArgs(start=D2, end=D2, inputs=(str(path),), config=config, clean_path=unused,
                      quarantine_path=unused, counts_path=unused, now=t(3, 0))
    labeled, counts = outcomes(spark, args)
    try:
        return counts[D2], clean_events(labeled).collect(), quarantine_rows(labeled, ingested_at=t(3, 0)).collect()
    finally:
        labeled.unpersist()


# --- ingest ---------------------------------------------------------------------------------------------------------


def test_parquet_files_of_one_day_with_other_columns_merge_and_a_type_change_stops(spark, tmp_path, reliability):
    day = tmp_path / "day"
    day.mkdir()
    pq.write_table(pa.table({"event_id": ["p1"], "user_id": ["u1"], "event_type": ["view"], "job_id": ["j1"],
                             "ts": ts_array(t(2, 9)), "channel": ["email"]}), day / "a.parquet")
    pq.write_table(pa.table({"event_id": ["p2"], "user_id": ["u2"], "event_type": ["search"],
                             "job_id": pa.array([None], pa.string()), "ts": ts_array(t(2, 10)),
                             "query": ["python"], "referrer": ["https://x"]}), day / "b.parquet")
    counts, clean, _ = ingest_steps(spark, day)
    assert (counts.input_rows, counts.clean_rows, counts.duplicate_rows, counts.quarantined_rows) == (2, 2, 0, 0)
    assert {r.event_id: (r.channel, r.query) for r in clean} == {"p1": ("email", None), "p2": (None, "python")}
    reliability(area=AREA, case="Parquet files of one day with different columns",
                injected="a.parquet has `channel`; b.parquet lacks it and adds `query` and an unknown `referrer`",
                happened="schemas merged (before the fix Spark took one file's schema and silently dropped b's "
                         "`query`); counts 2 = 2 clean + 0 + 0",
                tables="clean rows as the job writes them: p1 channel=email, p2 query='python'; none quarantined")

    changed = tmp_path / "changed"
    changed.mkdir()
    for name, users in (("a", pa.array(["u1"])), ("b", pa.array([7], pa.int64()))):
        pq.write_table(pa.table({"user_id": users, "event_type": ["view"], "job_id": ["j1"], "ts": ts_array(t(2, 9))}),
                       changed / f"{name}.parquet")
    conflict = r"disagree on the type of column\(s\) user_id: (STRING vs BIGINT|BIGINT vs STRING);"
    with pytest.raises(DataContractError, match=conflict):
        ingest(spark, tmp_path / "other", changed, D2)
    assert not (tmp_path / "other" / "tables").exists()
    reliability(area=AREA, case="type change between the files of one day (int user ids where strings were expected)",
                injected="a.parquet user_id string, b.parquet user_id int64 (same day folder)",
                happened="DataContractError at read time: 'the Parquet files under … disagree on the type of "
                         "column(s) user_id: STRING vs BIGINT (or the reverse); re-export the day with one type per "
                         "column' (before the fix: a raw Py4JJavaError "
                         "FAILED_READ_FILE.PARQUET_COLUMN_DATA_TYPE_MISMATCH mid-job)",
                tables="nothing written (no table created)")


LONG_QUERY = ("senior python engineer " * 4_400)[:100_000]
QUERIES = {  # event_id → query as sent
    "emoji": "😀 data engineer 🚀",
    "arabic": "مهندس بيانات",
    "hebrew": "\u200fמהנדס נתונים\u200f",  # RTL marks at both ends
    "control": "a\x01b\x07c\td",
    "emoji_only": "😀😀",
    "long": LONG_QUERY,
}
BLANK_IDS = {"tab": "\t", "nbsp": "\u00a0", "zwsp": "\u200b\u200b", "bom": "\ufeff", "ideographic": " \u3000 "}


def test_unicode_and_100kb_queries_are_kept_and_tokenised_blank_looking_ids_are_missing(spark, tmp_path, reliability):
    def line(event_id: str, user: str, **kw) -> str:
        return json.dumps({"event_id": event_id, "user_id": user, "ts": "2026-10-02T09:00:00Z", **kw})

    src = write_lines(tmp_path / "in" / "day.jsonl", [
        *[line(k, "użytkownik-ß", event_type="search", query=q) for k, q in QUERIES.items()],
        *[line(k, u, event_type="view", job_id="j1") for k, u in BLANK_IDS.items()],
        line("bom_prefixed", "\ufeffu7", event_type="view", job_id="j1"),
    ])
    counts, clean_rows, quarantine = ingest_steps(spark, src, IngestConfig(format="json"))
    assert (counts.input_rows, counts.clean_rows, counts.duplicate_rows, counts.quarantined_rows) == (12, 7, 0, 5)
    clean = {r.event_id: r for r in clean_rows}
    stored = {k: clean[k].query for k in QUERIES}
    assert stored == {**QUERIES, "hebrew": "מהנדס נתונים"}  # kept whole; only edge marks trimmed
    assert len(stored["long"]) == 100_000 and clean["bom_prefixed"].user_id == "u7"
    assert {clean[k].user_id for k in QUERIES} == {"użytkownik-ß"}
    assert sorted((json.loads(r.raw)["event_id"], r.reason) for r in quarantine) == [
        (k, "missing_user_id") for k in sorted(BLANK_IDS)]

    def token_ids(df) -> dict[str, list[int]]:
        ids = query_token_ids(F.col("query"), buckets=2**14, max_tokens=4)
        return {r.event_id: r.ids for r in df.select("event_id", ids.alias("ids")).collect()}

    tokens = token_ids(spark.createDataFrame([r for r in clean_rows if r.query is not None], CLEAN_SCHEMA))
    plain = token_ids(spark.createDataFrame(
        [("de", "data engineer"), ("abcd", "a b c d"), ("long", "senior python engineer senior")],
        "event_id string, query string"))
    data_engineer, abcd, long_prefix = plain["de"], plain["abcd"], plain["long"]
    assert tokens["emoji"] == data_engineer and tokens["emoji_only"] == [0, 0, 0, 0]  # emoji are separators
    assert tokens["control"] == abcd and tokens["long"] == long_prefix  # control chars separate; first 4 tokens
    assert all(x > 0 for x in tokens["arabic"][:2] + tokens["hebrew"][:2]) and tokens["arabic"][2:] == [0, 0]
    reliability(area=AREA, case="unicode and very long query strings",
                injected="6 searches: emoji '😀 data engineer 🚀', Arabic, Hebrew wrapped in U+200F marks, control "
                         "chars 'a\\x01b\\x07c\\td', emoji only, a 100,000-character query; user id 'użytkownik-ß'",
                happened="all 6 clean, queries stored whole (100,000 chars; only the edge RTL marks trimmed); "
                         "tokenised without error: emoji and control chars act as separators, the emoji-only query "
                         "has no tokens [0,0,0,0], the long one keeps its first 4 tokens",
                tables="clean rows: 6 searches, unicode user id unchanged; counts 12 = 7 clean + 0 + 5 quarantined")
    reliability(area=AREA, case="ids that only look present (white space, zero-width, BOM)",
                injected="user_id '\\t', U+00A0, U+200B×2, U+FEFF, ' U+3000 '; and '\\ufeffu7' (BOM-prefixed)",
                happened="the 5 blank-looking ids → missing_user_id (before the fix Spark's trim removed only spaces "
                         "and all 5 were clean under user ids made of invisible characters); the BOM is trimmed: 'u7'",
                tables="quarantine rows: 5 × missing_user_id with the raw row; clean rows: user 'u7'")


# --- odd users through timelines → examples → inference inputs ---------------------------------------------------

FIRST, LAST, VALID_FROM, AS_OF = date(2026, 10, 1), date(2026, 10, 10), date(2026, 10, 9), date(2026, 10, 11)
HEAVY_EVENTS, HEAVY_JOBS, W = 100_000, 50, 32
STEP_US = 8_640_000  # 100,000 events × 8.64 s = exactly the 10 days FIRST..LAST
T0_US = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp()) * 1_000_000


def heavy_user(jobs: list[str]) -> pa.Table:
    """One user, 100,000 events every 8.64 s (one session): views, an apply every 100th, a search every 250th."""
    i = np.arange(HEAVY_EVENTS)
    kind = np.where(i % 250 == 0, "search", np.where(i % 100 == 99, "apply", "view"))
    job = np.asarray(jobs[:HEAVY_JOBS], dtype=object)[i % HEAVY_JOBS]
    job[kind == "search"] = None
    ts = T0_US + i * STEP_US
    return pa.table({
        "event_id": pa.array(np.char.add("h", np.char.zfill(i.astype(str), 6))), "user_id": ["heavy"] * HEAVY_EVENTS,
        "event_type": pa.array(kind), "job_id": pa.array(job, pa.string()),
        "query": pa.array(np.where(kind == "search", "python developer", None), pa.string()),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")), "channel": pa.nulls(HEAVY_EVENTS, pa.string()),
        "ds": pa.array((ts // 86_400_000_000).astype(np.int32), pa.date32()),
    }).cast(EVENTS)


def small_users(jobs: list[str]) -> pa.Table:
    """``solo`` (one apply), ``ghosty`` (5 events, 3 on jobs missing from the catalogue), ``filler`` (a view a day)."""
    rows = [("s1", "solo", "apply", jobs[0], datetime(2026, 10, 5, 12, tzinfo=UTC))]
    rows += [(f"g{k}", "ghosty", kind, job, datetime(2026, 10, 6, 10, 10 * k, tzinfo=UTC)) for k, (kind, job) in
             enumerate([("view", "ghost-1"), ("view", jobs[1]), ("save", "ghost-1"), ("view", jobs[2]),
                        ("apply", "ghost-2")])]
    rows += [(f"f{d}", "filler", "view", jobs[3 + d], datetime(2026, 10, 1 + d, 12, tzinfo=UTC)) for d in range(10)]
    columns = list(zip(*rows))
    return pa.table({"event_id": columns[0], "user_id": columns[1], "event_type": columns[2], "job_id": columns[3],
                     "query": pa.nulls(len(rows), pa.string()), "ts": ts_array(*columns[4]),
                     "channel": pa.nulls(len(rows), pa.string()), "ds": pa.array([r[4].date() for r in rows])},
                    schema=EVENTS)


@pytest.fixture(scope="module")
def world(spark, chain, tmp_path_factory):
    """Clean events of the odd users, then the job side table (with events), timelines, examples, inference inputs."""
    root = tmp_path_factory.mktemp("odd_users")
    catalog_ids = sorted(pq.read_table(chain.catalog / f"ds={END}", columns=["job_id"]).column("job_id").to_pylist())
    events = pa.concat_tables([heavy_user(catalog_ids), small_users(catalog_ids[HEAVY_JOBS:])])
    pq.write_table(events, root / "events.parquet")
    clean, tl, ex, inputs = (root / n for n in (Tables.CLEAN_EVENTS, Tables.TIMELINES, "ex", Tables.INFERENCE_INPUTS))
    spark.read.parquet(str(root / "events.parquet")).select(*with_partition(RAW_EVENT).names) \
        .write.format("delta").partitionBy("ds").save(str(clean))
    span = ["--start", str(FIRST), "--end", str(LAST)]
    job_table.run(spark, job_table.parse_args(["--ds", str(END), "--catalog", str(chain.catalog), "--events",
                                               str(clean), *span, "--out", str(ex / "job_side_table")]))
    with PeakMemory(0.2) as peak:  # the process tree and the largest Python worker (Spark's UDF workers)
        counts = {
            "timelines": timelines.run(spark, timelines.TimelineArgs(FIRST, LAST, clean, tl)),
            "examples": examples.run(spark, examples.parse_args([*span, "--valid-from", str(VALID_FROM), "--timelines",
                                                                 str(tl), "--out", str(ex), "--format", "windows"])),
            "inputs": inference_inputs.run(spark, inference_inputs.parse_args([
                "--as-of", str(AS_OF), "--job-table", str(ex / "job_side_table"), "--events", str(clean),
                "--out", str(inputs), "--state", str(root / "state")])),
        }
    side = spark.read.parquet(str(ex / "job_side_table")).toPandas().set_index("job_id", drop=False)
    return {
        "counts": counts, "peak": peak, "catalog_ids": catalog_ids,
        "events": events, "side": side, "timelines": read_delta(spark, tl),
        "examples": spark.read.parquet(str(ex / "examples")), "inputs": read_delta(spark, inputs),
    }


def test_a_user_with_one_event_gets_no_example_but_an_inference_input(world, reliability):
    [event] = world["timelines"].where("user_id = 'solo'").collect()
    assert (event.position, event.session_id, event.session_position, event.gap_s) == (0, 0, 0, None)
    assert world["examples"].where("user_id = 'solo'").count() == 0
    [row] = world["inputs"].where("user_id = 'solo'").collect()
    job = int(world["side"].loc[world["catalog_ids"][HEAVY_JOBS], "job_index"])
    assert (row.n_events, row.context_length, row.below_min_events) == (1, 1, False)  # computed, not a fallback
    assert row.ctx_job_index == [job] + [0] * (W - 2)
    assert row.last_event_ts == local(datetime(2026, 10, 5, 12, tzinfo=UTC))
    reliability(area=AREA, case="a user with one event",
                injected="user 'solo' with a single apply (2026-10-05) among the clean events",
                happened="timelines: 1 row (position 0, session 0, gap null); examples: 0 rows for the user (< 4 events"
                         " and no earlier event to form a context); inference_inputs: 1 row, n_events 1, "
                         "context_length 1, below_min_events false (the default --min-events 1) — infer.py computes "
                         "its embedding (test_sparse_users.py); with --min-events 4 it would be a fallback row",
                tables=f"timelines 1, training examples 0, inference_inputs 1 for 'solo' "
                       f"(context: job index {job} + 30 padding)")


def test_one_user_with_100k_events_stays_bounded_and_inference_keeps_the_last_w_minus_1(world, reliability):
    heavy_tl = world["timelines"].where("user_id = 'heavy'")
    stats = heavy_tl.agg(F.count("*"), F.max("position"), F.max("session_id"), F.max("session_position")).first()
    assert tuple(stats) == (HEAVY_EVENTS, HEAVY_EVENTS - 1, 0, HEAVY_EVENTS - 1)
    assert world["counts"]["timelines"] == {"events": HEAVY_EVENTS + 16, "users": 4}

    heavy_ex = world["examples"].where("user_id = 'heavy'")
    kinds = {r.label_kind: r["count"] for r in heavy_ex.groupBy("label_kind").count().collect()}
    assert kinds == {"positive": 1_000, "random_negative": 1_000}  # every apply + one negative each (stride 1)
    assert heavy_ex.where(f"context_length != {W - 1}").count() == 0  # capped at W-1, never the whole history

    [row] = world["inputs"].where("user_id = 'heavy'").collect()
    last = world["events"].slice(HEAVY_EVENTS - (W - 1), W - 1).to_pydict()
    index = world["side"]["job_index"].to_dict()
    assert (row.n_events, row.context_length, row.below_min_events) == (HEAVY_EVENTS, W - 1, False)
    assert row.ctx_job_index == [0 if j is None else int(index[j]) for j in last["job_id"]]
    assert row.last_event_ts == local(last["ts"][-1])  # 2026-10-10 23:59:51.36

    # The JVM is bounded by its default 4 GiB heap (how far it grows is up to the GC, so no bound is asserted on
    # it); the Python worker holds one user's events at a time. Generous bound (measured ≈ 0.16 GiB): it catches a
    # worker that keeps a copy of the history per target (1,000 × 100,000 events), or every user's events at once.
    tree, worker = world["peak"].peak_bytes / 2**30, world["peak"].peak_python_bytes / 2**30
    assert worker < 1, f"a Python worker reached {worker:.2f} GiB"
    reliability(area=AREA, case="one user with 100,000 events",
                injected="user 'heavy': 100,000 events over 10 days (every 8.64 s, one session; 1,000 applies, "
                         "400 searches), built with pyarrow; default Spark settings (local[2], 4 GiB driver)",
                happened=f"timelines: 100,000 rows, positions 0..99,999, 1 session; examples: 1,000 positives + 1,000 "
                         f"random negatives, every context capped at W-1 = 31; inference_inputs: n_events 100,000, "
                         f"context = exactly the last 31 events; peak RSS of the largest Python worker "
                         f"{worker:.2f} GiB (asserted < 1 GiB), of the whole test process tree (pytest + JVM + "
                         f"workers) {tree:.2f} GiB",
                tables="timelines 100,016 rows; examples 2,000 for 'heavy'; inference_inputs 1 row per user (4)")


def test_events_on_jobs_missing_from_the_catalogue_get_id_only_rows(spark, world, reliability):
    side = world["side"]
    ghosts = side.loc[["ghost-1", "ghost-2"]]
    n_catalog = int(side.in_catalog.sum())
    assert list(ghosts.job_index) == [n_catalog + 1, n_catalog + 2] and not ghosts.in_catalog.any()
    assert (ghosts.company_id == 0).all() and all(list(x) == [0] * 8 for x in ghosts.title_tokens)  # id-only
    g1, g2 = (int(i) for i in ghosts.job_index)
    j1, j2 = (int(side.loc[world["catalog_ids"][HEAVY_JOBS + k], "job_index"]) for k in (1, 2))
    [row] = world["inputs"].where("user_id = 'ghosty'").collect()
    assert row.ctx_job_index[:5] == [g1, j1, g1, j2, g2] and row.context_length == 5
    targets = {(r.label_kind, r.target_job_index) for r in world["examples"].where("user_id = 'ghosty'").collect()}
    assert {("positive", g1), ("positive", g2)} <= targets

    catalog_only = spark.createDataFrame(side[side.in_catalog | (side.job_index == 0)][["job_id", "job_index"]])
    unknown = with_job_index(world["timelines"].where("user_id = 'ghosty'"), catalog_only)
    assert [r.job_index for r in unknown.orderBy("position").collect()] == [0, j1, 0, j2, 0]
    reliability(area=AREA, case="events referencing jobs missing from the catalogue",
                injected="user 'ghosty': 5 events, 3 on 'ghost-1'/'ghost-2' which the catalogue snapshot lacks",
                happened=f"job_table (--events): id-only rows {g1}, {g2} after the {n_catalog} catalogue jobs "
                         "(in_catalog false, every feature missing); examples target them (save/apply → positive); "
                         "inference context [ghost-1, j, ghost-1, j, ghost-2]. With a side table built without "
                         "--events the unknown jobs map to index 0 (no-job slot; event type and time kept) — "
                         "documented in sequences.with_job_index",
                tables="job side table +2 event-only rows; no crash, no row dropped")
