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
from spark_jobs.ingest import (
    REASONS, IngestCounts, apply_mapping, count_outcomes, fill_event_id, mark_duplicates, parse_and_validate,
    parse_args, read_input, run,
)
from spark_jobs.ingest_config import IngestConfig, load_config
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
    args = parse_args(["--ds", ds.isoformat(), "--input", str(source), "--data-root", str(root / "tables"),
                       "--now", now, *extra])
    counts = run(spark, args)
    assert counts["input_rows"] == counts["clean_rows"] + counts["duplicate_rows"] + counts["quarantined_rows"]
    assert counts["quarantined_rows"] == sum(counts["quarantined_by_reason"].values())
    assert set(counts["quarantined_by_reason"]) == set(REASONS)
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
        j(id="e3", uid="u1", action=" delete ", timestamp="2026-10-02 11:00:00", job="j2"),  # naive = UTC
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
    ])
    counts = ingest(spark, tmp_path, src, D2, "--format", "json", "--mapping", str(mapping_file(tmp_path)))
    assert (counts["input_rows"], counts["clean_rows"], counts["duplicate_rows"], counts["quarantined_rows"]) == (
        21, 6, 2, 13)  # duplicates: e1's resend, and u3's copy without an id written with an offset
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
    ], key=str)
    quarantine = {json.loads(r["raw"]).get("id"): r for r in got["quarantine_events"]}
    assert quarantine[None]["raw"] == '{"_corrupt_record":"{broken"}'
    assert json.loads(quarantine["q4"]["raw"])["extra"] == "keep-me"  # unknown columns survive in the raw row
    assert {(r.source_file.endswith("/day.jsonl"), r.ingested_at, r.ds) for r in quarantine.values()} == {
        (True, local(t(2, 12)), D2)}
    assert list(got["quarantine_events"][0].asDict()) == ["raw", "reason", "source_file", "ingested_at", "ds"]
    [counts_row] = got["ingest_counts"]
    assert counts_row["quarantined_by_reason"] == {**dict.fromkeys(REASONS, 1), "missing_user_id": 3,
                                                   "unknown_event_type": 2}
    assert (counts_row["input_rows"], counts_row["clean_rows"], counts_row["duplicate_rows"],
            counts_row["quarantined_rows"]) == (21, 6, 2, 13)
    assert json.loads(counts_row["config"])["event_types"] == {"bookmark": "save", "delete": "dismiss"}

    assert ingest(spark, tmp_path, src, D2, "--format", "json", "--mapping", str(mapping_file(tmp_path))) == counts
    rerun = collect(spark, tmp_path, D2)
    for name, rows in got.items():
        assertDataFrameEqual(rerun[name], rows)  # replaced, not appended
    for name in got:
        assert last_commit_metadata(tmp_path / "tables" / name) == {
            "job": "ingest", "ds": "2026-10-02", "input": str(src), "now": "2026-10-02T12:00:00+00:00"}
    counts_text = "ingest_counts 21 = 6 clean + 2 duplicates + 13 quarantined"
    for case, injected, happened in (
        ("malformed JSON lines", "the line '{broken' among 21 JSON lines",
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
    row = parse_and_validate(apply_mapping(raw, config=cfg), ds=D1, now=t(2, 0), ts_floor=cfg.ts_floor,
                             epoch_unit=cfg.epoch_unit).first()
    assert (row["ts"], row["reason"]) == (local(t(1, 10)), None)
    (tmp_path / "empty.jsonl").write_text("")
    write_lines(tmp_path / "hdr" / "h.csv", ["user_id,event_type,job_id,ts"])
    write_lines(tmp_path / "bad" / "x.jsonl", ["nope", "", "{also bad"])
    expected = {"empty.jsonl": 0, "hdr": 0, "bad": 2}
    for name, fmt in (("empty.jsonl", "json"), ("hdr", "csv"), ("bad", "json")):
        raw = read_input(spark, str(tmp_path / name), config=IngestConfig(format=fmt))
        labeled = mark_duplicates(fill_event_id(parse_and_validate(
            apply_mapping(raw, config=cfg), ds=D1, now=t(2, 0), ts_floor=cfg.ts_floor)))
        counts = IngestCounts.from_rows(count_outcomes(labeled).collect(), input_rows=raw.count())
        counts.check(source=name, ds=D1)
        assert (counts.input_rows, counts.quarantined["malformed_row"]) == (expected[name], expected[name])
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
