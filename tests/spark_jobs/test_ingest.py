"""spark_jobs/ingest.py: every input row ends clean, duplicate or quarantined (one reason); reruns replace."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobtrail.contracts import RAW_EVENT, with_partition
from jobtrail.errors import ConfigError, DataContractError
from jobtrail.synthetic.config import GeneratorConfig
from jobtrail.synthetic.generate import generate
from spark_jobs.common import read_delta
from spark_jobs.event_fields import apply_mapping
from spark_jobs.ingest import outcomes, run, validate
from spark_jobs.ingest_config import REASONS, IngestConfig, load_config, parse_args
from spark_jobs.ingest_counts import IngestCounts, count_outcomes
from spark_jobs.schemas import spark_schema

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)
NOW = "2026-10-02T12:00:00Z"
UTC = timezone.utc
MAPPING = {
    "columns": {"id": "event_id", "uid": "user_id", "action": "event_type", "timestamp": "ts", "job": "job_id"},
    "event_types": {"bookmark": "save", "delete": "dismiss"},
}
CLEAN = spark_schema(with_partition(RAW_EVENT))


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def local(ts: datetime) -> datetime:
    """How pyspark hands back a collected timestamp: naive, in this process's time zone."""
    return datetime.fromtimestamp(ts.timestamp())


def hashed_id(user: str, kind: str, job: str | None, query: str | None, ts: datetime) -> str:
    """The documented event_id of a row without one."""
    micros = int(ts.timestamp()) * 1_000_000
    return hashlib.sha256("\x1f".join([user, kind, job or "", query or "", str(micros)]).encode()).hexdigest()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path.parent


def ingest(spark, root: Path, source: Path, ds: date, *extra: str, now: str = NOW) -> dict:
    """Run the job for ``ds`` (or for ``--start``/``--end`` given in ``extra``); quarantine shares never fail
    here unless ``extra`` sets ``--max-quarantine-share``."""
    days = [] if "--start" in extra else ["--ds", ds.isoformat()]
    share = [] if "--max-quarantine-share" in extra else ["--max-quarantine-share", "1"]
    args = parse_args([*days, "--input", str(source), "--data-root", str(root / "tables"), "--now", now,
                       *share, *extra])
    counts = run(spark, args)
    for c in (counts, *counts["days"]):
        assert c["input_rows"] == c["clean_rows"] + c["duplicate_rows"] + c["quarantined_rows"]
        assert c["quarantined_rows"] == sum(c["quarantined_by_reason"].values())
        assert set(c["quarantined_by_reason"]) == set(REASONS)
    return counts


def clean_rows(*rows: tuple) -> list[Row]:
    """Expected clean rows as collected: contract column order, timestamps as pyspark returns them."""
    return [Row(**{name: local(v) if isinstance(v, datetime) else v for name, v in zip(CLEAN.names, row)})
            for row in rows]


def last_commit_metadata(path: Path) -> dict:
    """``userMetadata`` of the Delta table's latest commit, read from its log."""
    latest = max((path / "_delta_log").glob("*.json"))
    commit = next(json.loads(line)["commitInfo"] for line in latest.read_text().splitlines() if "commitInfo" in line)
    return json.loads(commit["userMetadata"])


def table(spark, root: Path, name: str, ds: date):
    return read_delta(spark, root / "tables" / name).where(F.col("ds") == F.lit(ds))


def collect(spark, root: Path, ds: date) -> dict[str, list[Row]]:
    """The day's rows of the three tables the job writes."""
    names = ("clean_events", "quarantine_events", "ingest_counts")
    return {name: table(spark, root, name, ds).collect() for name in names}


def reasons(quarantine: list[Row]) -> list[tuple[str | None, str]]:
    """(input ``id``, reason) per quarantined row, sorted."""
    return sorted(((json.loads(r["raw"]).get("id"), r["reason"]) for r in quarantine), key=str)


def mapping_file(tmp_path: Path, **overrides) -> Path:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({**MAPPING, **overrides}))
    return path


def test_json_lines_every_reason_duplicates_mapping_and_idempotent_rerun(spark, tmp_path, reliability):
    j = lambda **kw: json.dumps(kw)  # noqa: E731
    src = write_lines(tmp_path / "in" / "day.jsonl", [
        j(id="e1", uid="u1", action="view", timestamp="2026-10-02T10:00:00Z", job="j1", channel="search", extra="x"),
        j(id="e1", uid="u1", action="view", timestamp="2026-10-02T10:05:00Z", job="j1"),  # resend: later ts loses
        j(id="e2", uid=7, action="BOOKMARK", timestamp="2026-10-02T12:00:00+02:00", job="j1"),  # int uid; offset
        j(id="e3", uid="u1", action=" delete ", timestamp="2026-10-02 11:00:00", job="j2"),  # naive: timezone UTC
        j(id="e4", uid="u2", action="search", timestamp=str(int(t(2, 9).timestamp())), query="data engineer"),
        j(id=None, uid="u3", action="click", timestamp="2026-10-02T08:00:00Z", job="j3"),  # no id: hashed
        j(uid="u3", action="click", timestamp="2026-10-02T10:00:00+02:00", job="j3", channel="alert"),  # same → dup
        j(uid="u3", action="click", timestamp="2026-10-02T08:00:00Z", job="j4"),
        "{broken",
        j(id="q1", action="view", timestamp="2026-10-02T10:00:00Z", job="j1"),
        j(id="q2", uid="  ", action="view", timestamp="2026-10-02T10:00:00Z", job="j1"),
        j(id="q3", uid="u9", action="", timestamp="2026-10-02T10:00:00Z", job="j1"),
        j(id="q4", uid="u9", action="like", timestamp="2026-10-02T10:00:00Z", job="j1", extra="keep-me"),
        j(id="q5", uid="u9", action="view", timestamp="2026-10-02T10:00:00Z"),
        j(id="q6", uid="u9", action="view", job="j1"),
        j(id="q7", uid="u9", action="view", timestamp="yesterday", job="j1"),
        j(id="q8", uid="u9", action="view", timestamp="1999-12-31T23:59:59Z", job="j1"),
        j(id="q9", uid="u9", action="view", timestamp="2026-10-02T12:00:01Z", job="j1"),
        j(id="q10", uid="u9", action="view", timestamp="2026-10-02T01:30:00+02:00", job="j1"),  # 10-01 23:30Z
        j(id="q11", action="like", timestamp="yesterday"),  # first failing rule wins
        j(id="q12", uid="u9", action="like", timestamp="yesterday"),
        j(id="q13", uid="u9", action="view", timestamp="2026-10-02", job="j1"),  # a day, not an instant
    ])
    mapping = str(mapping_file(tmp_path, timezone="UTC"))
    counts = ingest(spark, tmp_path, src, D2, "--format", "json", "--mapping", mapping)
    assert (counts["input_rows"], counts["clean_rows"], counts["duplicate_rows"], counts["quarantined_rows"]) == (
        22, 6, 2, 14)  # duplicates: e1's resend, and u3's copy without an id written with an offset
    expected = [
        ("e1", "u1", "view", "j1", None, t(2, 10), "search", D2),
        ("e2", "7", "save", "j1", None, t(2, 10), None, D2),
        ("e3", "u1", "dismiss", "j2", None, t(2, 11), None, D2),
        ("e4", "u2", "search", None, "data engineer", t(2, 9), None, D2),
        (hashed_id("u3", "click", "j3", None, t(2, 8)), "u3", "click", "j3", None, t(2, 8), None, D2),
        (hashed_id("u3", "click", "j4", None, t(2, 8)), "u3", "click", "j4", None, t(2, 8), None, D2),
    ]
    got = collect(spark, tmp_path, D2)
    assertDataFrameEqual(got["clean_events"], clean_rows(*expected))
    assert reasons(got["quarantine_events"]) == sorted([
        (None, "malformed_row"), ("q1", "missing_user_id"), ("q2", "missing_user_id"), ("q3", "missing_event_type"),
        ("q4", "unknown_event_type"), ("q5", "missing_job_id"), ("q6", "missing_ts"), ("q7", "unparseable_ts"),
        ("q8", "ts_before_floor"), ("q9", "future_ts"), ("q10", "wrong_day"),
        ("q11", "missing_user_id"), ("q12", "unknown_event_type"),  # several rules fail: the first one wins
        ("q13", "date_only_ts"),
    ], key=str)
    quarantine = {json.loads(r["raw"]).get("id"): r for r in got["quarantine_events"]}
    assert quarantine[None]["raw"] == '{"_corrupt_record":"{broken"}'
    assert json.loads(quarantine["q4"]["raw"])["extra"] == "keep-me"  # unknown columns survive in the raw row
    assert {(r.source_file.endswith("/day.jsonl"), r.ingested_at, r.ds) for r in quarantine.values()} == {
        (True, local(t(2, 12)), D2)}
    assert list(got["quarantine_events"][0].asDict()) == ["raw", "reason", "source_file", "ingested_at", "ds"]
    [counts_row] = got["ingest_counts"]
    assert counts_row["quarantined_by_reason"] == {**dict.fromkeys(REASONS, 1), "missing_user_id": 3,
                                                   "unknown_event_type": 2, "naive_ts": 0}
    assert (counts_row["input_rows"], counts_row["clean_rows"], counts_row["duplicate_rows"],
            counts_row["quarantined_rows"]) == (22, 6, 2, 14)
    assert json.loads(counts_row["config"])["event_types"] == {"bookmark": "save", "delete": "dismiss"}

    assert ingest(spark, tmp_path, src, D2, "--format", "json", "--mapping", mapping) == counts
    rerun = collect(spark, tmp_path, D2)
    for name, rows in got.items():
        assertDataFrameEqual(rerun[name], rows)  # replaced, not appended
    for name in got:
        assert last_commit_metadata(tmp_path / "tables" / name) == {
            "job": "ingest", "start": "2026-10-02", "end": "2026-10-02", "input": str(src),
            "now": "2026-10-02T12:00:00+00:00"}
    counts_text = "ingest_counts 22 = 6 clean + 2 duplicates + 14 quarantined"
    for case, injected, happened in (
        ("malformed JSON lines", "the line '{broken' among 22 JSON lines",
         "quarantined as malformed_row, raw {\"_corrupt_record\":\"{broken\"} with its source file"),
        ("nulls in required fields", "no uid (q1, q11), uid '  ' (q2), action '' (q3), a view without job (q5), "
         "no timestamp (q6)", "quarantined: missing_user_id ×3, missing_event_type, missing_job_id, missing_ts "
         "(several failing rules: the first in REASONS order wins)"),
        ("unknown event types", "action 'like' (q4, q12); 'BOOKMARK' and ' delete ' with a mapping "
         "{bookmark: save, delete: dismiss}", "'like' → unknown_event_type ×2 (q4's extra column kept in the raw "
         "row); 'BOOKMARK' → save, ' delete ' → dismiss (clean)"),
        ("timestamps in the future and before the floor", "1999-12-31T23:59:59Z with floor 2000-01-01; "
         "12:00:01Z with --now 12:00:00Z; 'yesterday'", "ts_before_floor, future_ts, unparseable_ts (1 each)"),
        ("non-UTC offsets", "'2026-10-02T12:00:00+02:00'; '10:00:00+02:00' resend of an '08:00:00Z' event; "
         "'2026-10-02T01:30:00+02:00' in the run for 10-02", "normalised to UTC: clean at 10:00Z on 10-02; the "
         "resend is a duplicate of the 08:00Z event; 01:30+02:00 = 10-01 23:30Z → wrong_day (its own day)"),
        ("extra and renamed columns (mapping)", "columns id/uid/action/timestamp/job mapped to the contract, "
         "an unknown column 'extra'", "mapped; 'extra' not in clean_events, kept in the quarantined raw row"),
        ("int user ids in JSON (type change)", "uid 7 (a JSON number) among string uids", "cast to the string '7' "
         "(clean)"),
    ):
        reliability(area="bad input", case=case, injected=injected, happened=happened,
                    tables=f"{counts_text}; a rerun with the same --now leaves all three tables identical")


def test_csv_mapping_two_files_cross_file_duplicate_and_malformed_line(spark, tmp_path, reliability):
    header = "id,uid,action,timestamp,job,query,channel,referrer"
    write_lines(tmp_path / "in" / "a.csv", [
        header,
        "c1,10,bookmark,2026-10-02T09:00:00+00:00,j1,,email,https://x",
        "c2,11,delete,2026-10-02T11:30:00+02:00,j2,,,",
        f"c3,12,view,{int(t(2, 8).timestamp())},j3,,,",
        "c9,13,view,2026-10-02T08:00:00Z,j3,,,extra,field",
    ])
    src = write_lines(tmp_path / "in" / "b.csv", [
        header,
        "c1,10,bookmark,2026-10-02T09:00:00Z,j1,,email,https://y",
        ",14,search,2026-10-02T07:00:00Z,,remote python,,",
        "c4,15,delete,2026-10-02T10:00:00Z,,,,",
    ])
    counts = ingest(spark, tmp_path, src, D2, "--mapping", str(mapping_file(tmp_path, format="csv")))
    assert (counts["input_rows"], counts["clean_rows"], counts["duplicate_rows"], counts["quarantined_rows"]) == (
        7, 4, 1, 2)
    got = collect(spark, tmp_path, D2)
    assertDataFrameEqual(got["clean_events"], clean_rows(
        ("c1", "10", "save", "j1", None, t(2, 9), "email", D2),
        ("c2", "11", "dismiss", "j2", None, t(2, 9, 30), None, D2),
        ("c3", "12", "view", "j3", None, t(2, 8), None, D2),
        (hashed_id("14", "search", None, "remote python", t(2, 7)), "14", "search", None, "remote python",
         t(2, 7), None, D2),
    ))
    assert reasons(got["quarantine_events"]) == [("c4", "missing_job_id"), ("c9", "malformed_row")]
    bad = next(r for r in got["quarantine_events"] if r["reason"] == "malformed_row")
    assert bad["source_file"].endswith("/a.csv")
    assert json.loads(bad["raw"])["_corrupt_record"] == "c9,13,view,2026-10-02T08:00:00Z,j3,,,extra,field"
    reliability(area="bad input", case="duplicated events across two files",
                injected="event c1 in a.csv (09:00+00:00) and again in b.csv (09:00Z), CSV with a column mapping",
                happened="one clean row, the other counted as a duplicate; ingest_counts 7 = 4 clean + 1 duplicate "
                         "+ 2 quarantined",
                tables="clean_events: c1 once; quarantine: c4 missing_job_id, c9 malformed_row")
    reliability(area="bad input", case="malformed CSV line", injected="a CSV line with two extra fields (c9)",
                happened="quarantined as malformed_row with the raw line and source file a.csv",
                tables="quarantine_events: 1 malformed_row; the rest of a.csv ingested")


def test_parquet_identity_int_user_ids_no_event_id_column_and_empty_day(spark, tmp_path, reliability):
    src = tmp_path / "in" / "ds=2026-10-01"
    src.mkdir(parents=True)
    pq.write_table(pa.table({
        "user_id": pa.array([1, 1, 2], pa.int64()),
        "event_type": ["view", "view", "apply"],
        "job_id": ["j1", "j1", "j2"],
        "ts": pa.array([t(1, 9), t(1, 9), t(1, 23, 59)], pa.timestamp("us", tz="UTC")),
        "unknown": [1.5, 2.5, 3.5],
    }), src / "part-0.parquet")
    counts = ingest(spark, tmp_path, src, D1)
    assert (counts["clean_rows"], counts["duplicate_rows"], counts["quarantined_rows"]) == (2, 1, 0)
    clean = table(spark, tmp_path, "clean_events", D1)
    assert [(f.name, f.dataType) for f in clean.schema.fields] == [(f.name, f.dataType) for f in CLEAN.fields]
    assertDataFrameEqual(clean.collect(), clean_rows(
        (hashed_id("1", "view", "j1", None, t(1, 9)), "1", "view", "j1", None, t(1, 9), None, D1),
        (hashed_id("2", "apply", "j2", None, t(1, 23, 59)), "2", "apply", "j2", None, t(1, 23, 59), None, D1),
    ))

    (tmp_path / "empty").mkdir()  # a rerun of the same day from a folder without files empties the day
    counts = ingest(spark, tmp_path, tmp_path / "empty", D1)
    assert (counts["input_rows"], counts["clean_rows"], counts["quarantined_rows"]) == (0, 0, 0)
    got = collect(spark, tmp_path, D1)
    assert got["clean_events"] == [] and got["quarantine_events"] == []
    assert got["ingest_counts"][0]["input_rows"] == 0
    reliability(area="bad input", case="int user ids in Parquet (type change)",
                injected="user_id int64 [1, 1, 2], no event_id column, an unknown float column",
                happened="ids cast to '1', '2'; event_id = documented hash; the repeated row is a duplicate; "
                         "ingest_counts 3 = 2 clean + 1 duplicate + 0", tables="clean_events: 2 rows, contract schema")
    reliability(area="bad input", case="an empty day", injected="a rerun of the same day from a folder without files",
                happened="ingest_counts 0 = 0 + 0 + 0; no error", tables="clean_events and quarantine_events for the "
                "day emptied (replaced); one ingest_counts row with input_rows 0")


def test_missing_required_column_or_input_stops_before_writing(spark, tmp_path, reliability):
    src = write_lines(tmp_path / "in" / "a.csv", ["id,user,action,timestamp,job", "c1,10,view,2026-10-02T09:00:00Z,j1"])
    with pytest.raises(DataContractError, match=r"\['user_id'\].*\"uid\": \"user_id\"") as e:
        ingest(spark, tmp_path, src, D2, "--format", "csv", "--mapping", str(mapping_file(tmp_path)))
    assert "'uid'" in str(e.value) and "'user'" in str(e.value)  # looked-for and present input columns
    parquet_src = tmp_path / "p"
    parquet_src.mkdir()
    pq.write_table(pa.table({"user_id": ["u"], "event_type": ["view"], "ts": ["2026-10-02T09:00:00Z"]}),
                   parquet_src / "x.parquet")
    with pytest.raises(DataContractError, match=r"\['job_id'\].*mapping used: \{\}"):
        ingest(spark, tmp_path, parquet_src, D2)
    with pytest.raises(DataContractError, match="does-not-exist"):
        ingest(spark, tmp_path, tmp_path / "does-not-exist", D2)
    assert not (tmp_path / "tables").exists()
    reliability(area="bad input", case="renamed or missing required column",
                injected="CSV column 'user' where the mapping expects 'uid'; Parquet without job_id; an input path "
                         "that does not exist",
                happened="DataContractError before any Spark write, naming the missing contract column, the input "
                         "columns looked for, the mapping used and the columns present (or the missing path)",
                tables="nothing written (no table created)")


def test_counts_that_do_not_reconcile_raise_and_write_nothing(spark, tmp_path, monkeypatch):
    with pytest.raises(DataContractError, match="does not reconcile"):
        IngestCounts(input_rows=3, clean_rows=1, duplicate_rows=1).check(source="x", ds=D1)
    import spark_jobs.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "count_outcomes", lambda df: count_outcomes(df).where("outcome = 'clean'"))
    src = write_lines(tmp_path / "in" / "a.jsonl", [json.dumps({"user_id": "u", "event_type": "view", "job_id": "j",
                                                                "ts": "bad"})])
    with pytest.raises(DataContractError, match="input 1 != clean 0"):
        ingest(spark, tmp_path, src, D2, "--format", "json")
    assert not (tmp_path / "tables").exists()


def test_epoch_milliseconds_empty_files_and_json_that_never_parses(spark, tmp_path, reliability):
    cfg = IngestConfig(epoch_unit="ms")
    raw = spark.createDataFrame([("u", "view", "j", int(t(1, 10).timestamp() * 1000), "f")],
                                "user_id string, event_type string, job_id string, ts long, _source_file string")
    row = validate(apply_mapping(raw, config=cfg), start=D1, now=t(2, 0), ts_floor=cfg.ts_floor).first()
    assert (row["ts"], row["reason"]) == (local(t(1, 10)), None)
    (tmp_path / "empty.jsonl").write_text("")
    write_lines(tmp_path / "hdr" / "h.csv", ["user_id,event_type,job_id,ts"])
    write_lines(tmp_path / "bad" / "x.jsonl", ["nope", "", "{also bad"])
    expected = {"empty.jsonl": 0, "hdr": 0, "bad": 2}
    for name, fmt in (("empty.jsonl", "json"), ("hdr", "csv"), ("bad", "json")):
        args = parse_args(["--ds", str(D1), "--input", str(tmp_path / name), "--format", fmt, "--now", "2026-10-02",
                           "--data-root", str(tmp_path / "unused")])
        labeled, by_day = outcomes(spark, args)
        labeled.unpersist()
        assert (by_day[D1].input_rows, by_day[D1].quarantined["malformed_row"]) == (expected[name], expected[name])
    reliability(area="bad input", case="empty files and JSON where no line parses",
                injected="an empty .jsonl; a header-only CSV; a JSON file of 'nope', '', '{also bad'",
                happened="0 rows, 0 rows, and 2 malformed_row (the blank line is not a row); counts reconcile",
                tables="quarantine: the 2 unparseable lines with their raw text")


def test_synthetic_day_is_all_clean_and_other_days_are_untouched(spark, tmp_path):
    generate(GeneratorConfig(users=200, days=3, seed=11), tmp_path / "synthetic")
    raw_root = tmp_path / "synthetic" / "raw_events"
    counts = ingest(spark, tmp_path, raw_root / "ds=2026-10-02", D2, "--format", "parquet", now="2026-10-05T00:00:00")
    expected = spark.read.parquet(str(raw_root / "ds=2026-10-02")).withColumn("ds", F.lit(D2))
    assert counts["input_rows"] == expected.count() > 100
    assert (counts["clean_rows"], counts["duplicate_rows"], counts["quarantined_rows"]) == (counts["input_rows"], 0, 0)
    clean = read_delta(spark, tmp_path / "tables" / "clean_events")
    assertDataFrameEqual(clean.where(F.col("ds") == D2), expected.select(*CLEAN.names))

    def files_of_day_two() -> set[str]:  # Delta data files are immutable: the same files, the same rows
        day = table(spark, tmp_path, "clean_events", D2)
        return {r[0] for r in day.select("_metadata.file_path").distinct().collect()}

    before = files_of_day_two()
    ingest(spark, tmp_path, raw_root / "ds=2026-10-03", date(2026, 10, 3), now="2026-10-05T00:00:00")
    assert files_of_day_two() == before and len(before) > 0
    assert read_delta(spark, tmp_path / "tables" / "ingest_counts").count() == 2


def test_config_and_arguments(tmp_path):
    args = parse_args(["--ds", "2026-10-03", "--input", "x", "--data-root", str(tmp_path), "--now", "2026-10-04T01:00",
                       "--ts-floor", "2020-01-01", "--mapping", str(mapping_file(tmp_path, format="csv"))])
    assert args.config.format == "csv" and args.clean_path == tmp_path / "clean_events"
    assert args.now == datetime(2026, 10, 4, 1, tzinfo=UTC) and args.config.ts_floor == datetime(2020, 1, 1, tzinfo=UTC)
    assert parse_args(["--ds", "2026-10-03", "--input", "x", "--format", "json"]).config.columns == {}
    assert load_config(mapping_file(tmp_path)).event_types == {"bookmark": "save", "delete": "dismiss"}
    for bad in ({"colums": {}}, {"columns": {"uid": "user"}}, {"event_types": {"like": "love"}}, {"format": "xml"}):
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ConfigError):
            load_config(tmp_path / "bad.json")


def counts_by_day(spark, root: Path) -> dict:
    """The ingest_counts rows without the run's source, by day."""
    rows = read_delta(spark, root / "tables" / "ingest_counts").drop("input").collect()
    return {r["ds"]: r.asDict() for r in rows}


def test_range_ingest_equals_the_per_day_runs_reruns_identically_and_replaces_only_its_days(
        spark, tmp_path, reliability):
    generate(GeneratorConfig(users=150, days=4, seed=5), tmp_path / "synthetic")
    raw = tmp_path / "synthetic" / "raw_events"  # ds=YYYY-MM-DD folders
    first, last = date(2026, 10, 1), date(2026, 10, 4)
    now = "2026-10-06T00:00:00"
    per_day = tmp_path / "per_day"
    for day in (first, D2, date(2026, 10, 3), last):
        ingest(spark, per_day, raw / f"ds={day}", day, now=now)
    ranged = tmp_path / "ranged"
    counts = ingest(spark, ranged, raw, first, "--start", str(first), "--end", str(last), now=now)
    assert [d["ds"] for d in counts["days"]] == ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]
    assert counts["input_rows"] == sum(d["input_rows"] for d in counts["days"]) > 400
    for name in ("clean_events", "quarantine_events"):
        assertDataFrameEqual(read_delta(spark, ranged / "tables" / name), read_delta(spark, per_day / "tables" / name))
    assert counts_by_day(spark, ranged) == counts_by_day(spark, per_day)
    versions = {name: len(list((ranged / "tables" / name / "_delta_log").glob("*.json")))
                for name in ("clean_events", "quarantine_events", "ingest_counts")}
    assert versions == dict.fromkeys(versions, 1)  # one commit per table for the whole range

    before = {name: read_delta(spark, ranged / "tables" / name).collect()
              for name in ("clean_events", "quarantine_events", "ingest_counts")}
    assert ingest(spark, ranged, raw, first, "--start", str(first), "--end", str(last), now=now) == counts
    for name, rows in before.items():
        assertDataFrameEqual(read_delta(spark, ranged / "tables" / name), rows)  # a rerun: identical tables

    # an overlapping range from another export: days 3..5 (one row of day 2, one without a parseable ts)
    late = write_lines(tmp_path / "late" / "history.jsonl", [
        json.dumps(r) for r in (
            {"user_id": "n1", "event_type": "view", "job_id": "j1", "ts": "2026-10-03T08:00:00Z"},
            {"user_id": "n1", "event_type": "apply", "job_id": "j1", "ts": "2026-10-05T09:00:00Z"},
            {"user_id": "n2", "event_type": "view", "job_id": "j2", "ts": "2026-10-02T23:59:59Z"},
            {"user_id": "n3", "event_type": "view", "job_id": "j2", "ts": "later"},
        )])
    later = ingest(spark, ranged, late, first, "--start", "2026-10-03", "--end", "2026-10-05", "--format", "json",
                   now=now)
    assert [(d["ds"], d["input_rows"], d["clean_rows"], d["quarantined_rows"]) for d in later["days"]] == [
        ("2026-10-03", 1, 1, 0), ("2026-10-04", 0, 0, 0), ("2026-10-05", 3, 1, 2)]
    clean = read_delta(spark, ranged / "tables" / "clean_events")
    assert clean.where(F.col("ds") >= date(2026, 10, 3)).select("user_id").distinct().collect() == [Row(user_id="n1")]
    for name in ("clean_events", "quarantine_events", "ingest_counts"):  # days 1-2 untouched
        kept = [r for r in before[name] if r["ds"] < date(2026, 10, 3)]
        assertDataFrameEqual(read_delta(spark, ranged / "tables" / name).where(F.col("ds") < date(2026, 10, 3)), kept)
    quarantined = table(spark, tmp_path / "ranged", "quarantine_events", date(2026, 10, 5)).collect()
    assert sorted(r["reason"] for r in quarantined) == ["unparseable_ts", "wrong_day"]
    reliability(area="bad input", case="a history ingested as one range",
                injected="4 days of synthetic ds= folders in one run (--start/--end); the same range again; an "
                         "export of days 3..5 with a row of day 2 and one with ts 'later'",
                happened="clean, quarantine and counts equal to 4 per-day runs, one commit per table; the rerun "
                         "leaves every table identical; the overlapping range replaces days 3-5 only, the day-2 row "
                         "is wrong_day and 'later' unparseable_ts, both counted on the range's last day",
                tables="ingest_counts one row per day (a day without rows: zeros), each input = clean + "
                       "duplicates + quarantined")


def test_mapping_constants_time_zones_date_only_and_two_csv_layouts_in_one_folder(spark, tmp_path, reliability):
    write_lines(tmp_path / "in" / "a.csv", [
        "uid,job,when",
        "u1,j1,2026-10-02 09:00:00",  # naive: Europe/Berlin → 07:00Z
        "u2,j2,2026-10-02T09:00:00Z",  # an offset: as written
        "u3,j3,2026-10-02",  # date only: midnight in Berlin = 10-01 22:00Z → wrong_day for 10-02
        "u4,j4,1790931600000",  # epoch ms = 2026-10-02T09:00:00Z
    ])
    write_lines(tmp_path / "in" / "b.csv", ["when,job,uid,note", "2026-10-02 12:00:00,j5,u5,x"])  # other order
    mapping = {"format": "csv", "columns": {"uid": "user_id", "job": "job_id", "when": "ts",
                                            "event_type": {"constant": "apply"}},
               "timezone": "Europe/Berlin", "date_only": "midnight", "epoch_unit": "ms"}
    mapped = mapping_file(tmp_path, **mapping)
    mapped.write_text(json.dumps(mapping))
    counts = ingest(spark, tmp_path, tmp_path / "in", D2, "--mapping", str(mapped))
    assert (counts["clean_rows"], counts["quarantined_by_reason"]["wrong_day"]) == (4, 1)
    clean = {r["user_id"]: (r["event_type"], r["job_id"], r["ts"]) for r in table(spark, tmp_path, "clean_events", D2).collect()}
    assert clean == {"u1": ("apply", "j1", local(t(2, 7))), "u2": ("apply", "j2", local(t(2, 9))),
                     "u4": ("apply", "j4", local(t(2, 9))), "u5": ("apply", "j5", local(t(2, 10)))}

    strict = mapping_file(tmp_path, **{**mapping, "timezone": None, "date_only": "refuse"})
    strict.write_text(json.dumps({k: v for k, v in mapping.items() if k not in ("timezone", "date_only")}))
    counts = ingest(spark, tmp_path, tmp_path / "in", D2, "--mapping", str(strict))
    assert {k: v for k, v in counts["quarantined_by_reason"].items() if v} == {"naive_ts": 2, "date_only_ts": 1}
    assert counts["clean_rows"] == 2  # the offset and the epoch are unambiguous

    other = tmp_path / "bad_layout"
    write_lines(other / "a.csv", ["uid,job,when", "u1,j1,2026-10-02T09:00:00Z"])
    write_lines(other / "b.csv", ["user,posting,time", "u2,j2,2026-10-02T09:00:00Z"])
    with pytest.raises(DataContractError, match=r"b\.csv.*\['user_id', 'ts', 'job_id'\]"):
        ingest(spark, tmp_path, other, D2, "--mapping", str(mapped))
    reliability(area="bad input", case="two CSV layouts in one folder; naive and date-only timestamps",
                injected="a.csv (uid,job,when) and b.csv (when,job,uid,note); naive local times, a bare date, an "
                         "offset and epoch ms; a mapping with a constant event type, timezone Europe/Berlin, "
                         "date_only midnight — then the same files without timezone and date_only; then a folder "
                         "whose second file names its columns otherwise",
                happened="each file read by its own header (b.csv's columns in another order land right); naive "
                         "times read in Berlin, the date as Berlin midnight (→ wrong_day); without the keys: "
                         "naive_ts ×2 and date_only_ts, offset and epoch still clean; the unmappable layout: "
                         "DataContractError naming b.csv and the missing columns",
                tables="counts reconcile in every run; nothing written for the refused layout")


def test_quarantine_share_guard_and_dry_run(spark, tmp_path, reliability, capsys):
    src = write_lines(tmp_path / "in" / "a.csv", [
        "uid,action,job,ts", "u1,bookmark,j1,1790931600000", "u2,bookmark,j2,1790931600000",
        "u3,view,j3,1790931600000"])
    mapping = mapping_file(tmp_path, format="csv")
    mapping.write_text(json.dumps({"format": "csv", "epoch_unit": "us",
                                   "columns": {"uid": "user_id", "action": "event_type", "job": "job_id"}}))
    args = ["--ds", str(D2), "--input", str(src), "--mapping", str(mapping), "--now", NOW,
            "--data-root", str(tmp_path / "tables")]
    from spark_jobs import ingest as ingest_module

    assert ingest_module.main([*args, "--dry-run"]) == 1  # bookmark is unmapped; us for ms: 1970
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["quarantined"]["unknown_event_type"]["rows"] == 2
    assert report["quarantined"]["ts_before_floor"]["rows"] == 1
    assert "u1" in report["quarantined"]["unknown_event_type"]["samples"][0]
    assert report["columns_with_value"]["user_id"] == 3 and "event_types" in report["error"]
    assert not (tmp_path / "tables").exists()  # a dry run writes nothing
    with pytest.raises(DataContractError, match=r"3 of 3 rows \(100%\).*top reason unknown_event_type.*event_types"):
        run(spark, parse_args(args))
    assert table(spark, tmp_path, "quarantine_events", D2).count() == 3  # written before the refusal
    reliability(area="bad input", case="a mapping that quarantines most of a day",
                injected="a CSV whose 'bookmark' is not in event_types and whose epoch is in ms (mapping: us)",
                happened="--dry-run: per column how many rows have a value, per reason the count and samples, "
                         "exit 1, nothing written; the real run writes the quarantine, then raises "
                         "DataContractError (exit non-zero) naming the top reason and the mapping key to check",
                tables="quarantine 3 rows; ingest_counts 3 = 0 clean + 3 quarantined")


def test_a_truncated_last_line_is_malformed_and_a_complete_one_without_line_break_is_clean(spark, tmp_path,
                                                                                         reliability):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cut.csv").write_text("user_id,event_type,job_id,ts\nu1,view,j1,2026-10-02T09:00:00Z\n"
                                    "u2,view,j2,2026-10-02T1")  # the export stopped mid-timestamp
    (folder / "whole.csv").write_text("user_id,event_type,job_id,ts\nu3,view,j3,2026-10-02T09:00:00Z")
    (folder / "short.csv").write_text("user_id,event_type,job_id,ts\nu4,view\n")
    counts = ingest(spark, tmp_path, folder, D2, "--format", "csv")
    assert (counts["clean_rows"], counts["quarantined_by_reason"]["malformed_row"], counts["quarantined_rows"]) == (
        2, 2, 2)
    assert sorted(r["user_id"] for r in table(spark, tmp_path, "clean_events", D2).collect()) == ["u1", "u3"]
    reliability(area="bad input", case="a truncated last line",
                injected="a CSV whose last line stops mid-timestamp ('2026-10-02T1', no line break); a complete "
                         "last line without a line break; a line with two of four fields",
                happened="the cut line and the short line are malformed_row (Spark alone read '2026-10-02T1' as "
                         "01:00); the complete unterminated line is clean",
                tables="ingest_counts 4 = 2 clean + 2 quarantined (malformed_row)")
