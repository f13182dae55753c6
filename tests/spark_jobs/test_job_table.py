"""Job side table: dense stable index with padding row 0, hashed tokens, vocabularies, numerics, missing jobs,
learned job-id rows that survive a later snapshot."""

from __future__ import annotations

import ast
import json
import math
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobtrail.contracts import JOB, JOB_SIDE_TABLE, RAW_EVENT, with_partition
from jobtrail.errors import ConfigError, DataContractError
from jobtrail.job_table_io import VOCAB_FILE, job_table_arrays, load_job_table
from jobtrail.parquet_io import write_partitioned
from jobtrail.synthetic.catalog import build_catalog
from jobtrail.synthetic.config import GeneratorConfig
from spark_jobs.job_table import (
    JobTableArgs, JobVocab, TokenConfig, add_missing_jobs, apply_vocab, assign_index, build_job_table,
    build_vocab, normalise_numerics, parse_args, read_snapshot, run, tokenize,
)
from spark_jobs.schemas import spark_schema

DS = date(2026, 10, 3)
MIDNIGHT = datetime(2026, 10, 3, tzinfo=timezone.utc)
TOK = TokenConfig(buckets=2**14, title_length=4, skill_length=3)
PYTHON_ID = 3348  # golden: pmod(xxhash64("python"), 2**14) + 1 — changes if the hash function changes


def jobs(spark, rows):
    """rows: (job_id, title, company, location, category, skills, seniority, salary_min, salary_max, posted_ts)."""
    return spark.createDataFrame(rows, spark_schema(JOB))


def job(job_id, title=None, company=None, location=None, category=None, skills=None, seniority=None,
        salary_min=None, salary_max=None, posted_ts=None):
    return (job_id, title, company, location, category, skills, seniority, salary_min, salary_max, posted_ts)


def write_catalog(spark, root: Path, ds: date, rows) -> None:
    jobs(spark, rows).withColumn("ds", F.lit(ds)).write.mode("append").partitionBy("ds").parquet(str(root))


def test_token_ids_golden_deterministic_padded(spark):
    df = jobs(spark, [job("j1", title="Python", skills=["Python", " Machine \tLearning", "python ", " ", "C++", "C#"]),
                      job("j2", title="Senior Data-Engineer, Python & SQL!"),
                      job("j3")])
    got = {r.job_id: (r.title_tokens, r.skill_tokens) for r in tokenize(df, tokens=TOK).collect()}
    ref = spark.range(1).select(*[(F.pmod(F.xxhash64(F.lit(w)), F.lit(2**14)) + 1).cast("int").alias(w)
                                  for w in ("senior", "data", "engineer", "python", "machine learning")]).first()
    assert ref["python"] == PYTHON_ID
    assert got["j1"][0] == [PYTHON_ID, 0, 0, 0]
    assert got["j1"][1][:2] == [PYTHON_ID, ref["machine learning"]]  # one id per phrase, deduped, blanks dropped
    assert got["j1"][1][2] not in (0, PYTHON_ID, ref["machine learning"])  # "c++", truncated before "c#"
    assert got["j2"][0] == [ref["senior"], ref["data"], ref["engineer"], PYTHON_ID]  # truncated to 4 words
    assert got["j3"] == ([0, 0, 0, 0], [0, 0, 0])
    assert all(1 <= t <= 2**14 for r in got.values() for t in r[0] + r[1] if t)


def test_build_vocab_counts_order_and_limits(spark):
    df = jobs(spark, [job("j1", company="B", location="Paris", salary_min=100.0, salary_max=300.0),
                      job("j2", company="A ", category="it", salary_min=400.0),
                      job("j3", company="A"), job("j4", company="B"), job("j5", company="C"),
                      job("j6", company="  ", salary_max=-5.0)])
    vocab = build_vocab(df)
    logs = [math.log(200.0), math.log(400.0)]
    mean = sum(logs) / 2
    std = math.sqrt(sum((x - mean) ** 2 for x in logs) / 2)
    assert (vocab.company, vocab.location, vocab.category) == (("A", "B", "C"), ("Paris",), ("it",))  # B×2, A×2
    assert vocab.salary_log_mean == pytest.approx(mean) and vocab.salary_log_std == pytest.approx(std)
    assert build_vocab(df, min_count=2).company == ("A", "B")
    assert build_vocab(df, max_vocab=1).company == ("A",)
    assert build_vocab(df.limit(0)) == JobVocab()  # no salaries: mean 0, std 1


def test_apply_vocab_missing_oov_and_values(spark):
    df = jobs(spark, [job("j1", company="A", location="Paris", category="it"), job("j2", company="Z ", location=""),
                      job("j3", company=" B", category="ops")])
    vocab = JobVocab(company=("A", "B"), location=("Paris",), category=("ops", "it"))
    got = apply_vocab(df, vocab=vocab).select("job_id", "company_id", "location_id", "category_id")
    expected = spark.createDataFrame([("j1", 2, 2, 3), ("j2", 1, 0, 0), ("j3", 3, 0, 2)],
                                     "job_id string, company_id int, location_id int, category_id int")
    assertDataFrameEqual(got, expected)


def test_normalise_numerics_golden(spark):
    df = jobs(spark, [
        job("j1", seniority=1, salary_min=100.0, salary_max=300.0, posted_ts=MIDNIGHT - timedelta(days=3)),
        job("j2", seniority=3, salary_min=math.e ** 2 * 10, posted_ts=MIDNIGHT + timedelta(hours=5)),
        job("j3", seniority=7, salary_max=0.0),
        job("j4"),
    ])
    vocab = JobVocab(salary_log_mean=math.log(200.0), salary_log_std=0.5)
    got = normalise_numerics(df, ds=DS, vocab=vocab).select(
        "job_id", "seniority_norm", "has_seniority", "salary_z", "has_salary", "log_posted_age_days", "has_posted_ts")
    z2 = (math.log(math.e ** 2 * 10) - math.log(200.0)) / 0.5
    expected = spark.createDataFrame(
        [("j1", 0.0, 1.0, 0.0, 1.0, math.log1p(3.0), 1.0), ("j2", 0.5, 1.0, z2, 1.0, 0.0, 1.0),
         ("j3", 1.0, 1.0, 0.0, 0.0, 0.0, 0.0), ("j4", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)],
        "job_id string, seniority_norm float, has_seniority float, salary_z float, has_salary float, "
        "log_posted_age_days float, has_posted_ts float",
    )
    assertDataFrameEqual(got, expected, rtol=1e-6)


def test_missing_jobs_and_dense_index_with_padding_row(spark):
    features = build_job_table(jobs(spark, [job("j2", company="A"), job("j1", company="B")]), None,
                               ds=DS, vocab=JobVocab(company=("A",)), tokens=TOK)
    features = features.where("job_index > 0").drop("job_index", "job_id_row")  # as catalog_features returns them
    events = spark.createDataFrame([("j9",), ("j1",), ("j0",), (None,), ("j9",)], "job_id string")
    got = assign_index(add_missing_jobs(features, events, tokens=TOK), tokens=TOK)
    expected = spark.createDataFrame(
        [(0, None, False, 0, 0), (1, "j1", True, 2, 1), (2, "j2", True, 3, 2), (3, "j0", False, 4, 0),
         (4, "j9", False, 5, 0)],
        "job_index int, job_id string, in_catalog boolean, job_id_row int, company_id int")
    assertDataFrameEqual(got.select("job_index", "job_id", "in_catalog", "job_id_row", "company_id"), expected)
    capped = assign_index(add_missing_jobs(features, events, tokens=TOK), tokens=TOK, max_job_ids=2)
    assert sorted((r.job_index, r.job_id_row) for r in capped.collect()) == [(0, 0), (1, 2), (2, 3), (3, 1), (4, 1)]
    missing = got.where("NOT in_catalog").collect()
    assert {(tuple(r.title_tokens), tuple(r.skill_tokens)) for r in missing} == {((0,) * 4, (0,) * 3)}
    assert {(r.location_id, r.category_id, r.seniority_norm, r.has_salary, r.has_posted_ts)
            for r in missing} == {(0, 0, 0.0, 0.0, 0.0)}
    assert got.columns == JOB_SIDE_TABLE.names


@pytest.fixture(scope="module")
def synthetic_catalog(tmp_path_factory) -> Path:
    """Two snapshots (2026-10-03 and 2026-10-20) of a small synthetic catalogue, pyarrow-written."""
    cfg = GeneratorConfig(users=100, days=20, seed=3, jobs=400)
    catalog = build_catalog(cfg)
    root = tmp_path_factory.mktemp("catalog")
    write_partitioned(pa.concat_tables([catalog.snapshot(cfg, 2), catalog.snapshot(cfg, 19)]), root)
    return root


def test_index_independent_of_input_partitioning(spark, synthetic_catalog):
    snap = read_snapshot(spark, synthetic_catalog, DS)
    vocab = build_vocab(snap)
    events = spark.createDataFrame([("zz-unknown",), ("a-unknown",)], "job_id string")
    one, four = (build_job_table(snap.repartition(n), events.repartition(n), ds=DS, vocab=vocab, tokens=TOK)
                 for n in (1, 4))
    assert build_vocab(snap.repartition(4)) == vocab  # salary stats too: exact, not order-dependent sums
    rows_one, rows_four = sorted(one.collect()), sorted(four.collect())
    assert rows_one == rows_four
    n_catalog = pq.read_table(synthetic_catalog / f"ds={DS}").num_rows
    assert [r.job_index for r in rows_one] == list(range(n_catalog + 3))  # padding + catalogue + 2 unknown
    assert [r.job_id for r in rows_one[-2:]] == ["a-unknown", "zz-unknown"]


@pytest.fixture(scope="module")
def events_table(spark, tmp_path_factory) -> Path:
    """Clean events (Delta): a catalogue job, a job absent from the catalogue, a search, an out-of-range day."""
    t = datetime(2026, 10, 2, 12, tzinfo=timezone.utc)
    rows = [("e1", "u1", "view", "j0000000", None, t, "search"), ("e2", "u1", "apply", "ghost-1", None, t, "search"),
            ("e3", "u2", "search", None, "python", t, "search"),
            ("e4", "u2", "view", "ghost-2", None, t + timedelta(days=5), "search")]
    df = spark.createDataFrame([(*r, r[5].date()) for r in rows], spark_schema(with_partition(RAW_EVENT)))
    path = tmp_path_factory.mktemp("events") / "clean_events"
    df.write.format("delta").partitionBy("ds").save(str(path))
    return path


def test_run_writes_table_and_vocab_idempotently(spark, synthetic_catalog, events_table, tmp_path):
    out = tmp_path / "job_side_table" / f"ds={DS}"
    args = parse_args(["--ds", str(DS), "--catalog", str(synthetic_catalog), "--events", str(events_table),
                       "--start", "2026-10-01", "--end", "2026-10-03", "--out", str(out)])
    first = run(spark, args)
    table, vocab = load_job_table(out)
    n_catalog = pq.read_table(synthetic_catalog / f"ds={DS}").num_rows
    assert first["catalog"] == n_catalog and first["event_only"] == 1 and first["total"] == n_catalog + 2
    assert vocab["rows"] == {"total": n_catalog + 2, "catalog": n_catalog, "event_only": 1, "padding": 1}
    assert vocab["tokens"]["buckets"] == 2**14 and vocab["tokens"]["title_length"] == 8
    rows = table.to_pylist()
    assert rows[0]["job_index"] == 0 and rows[0]["job_id"] is None and not rows[0]["in_catalog"]
    assert rows[1]["job_id"] == "j0000000" and rows[-1]["job_id"] == "ghost-1" and not rows[-1]["in_catalog"]
    assert rows[-1]["title_tokens"] == [0] * 8 and rows[-1]["company_id"] == 0  # id-only: every feature missing
    assert vocab["job_ids"] == [r["job_id"] for r in rows[1:]] and vocab["job_id_rows"] == len(rows) + 1
    assert vocab["max_job_ids"] == 1_000_000 and first["job_id_rows"] == len(rows) + 1
    arrays = job_table_arrays(table)
    assert arrays["job_id_row"].dtype == np.int32 and arrays["job_id_row"][0] == 0
    assert (arrays["job_id_row"][1:] == arrays["job_index"][1:] + 1).all()  # fresh vocabulary: index order
    assert arrays["title_tokens"].shape == (len(rows), 8) and arrays["skill_tokens"].shape == (len(rows), 16)
    assert arrays["title_tokens"].max() <= 2**14 and (arrays["title_tokens"][1:n_catalog + 1, 0] > 0).all()
    assert arrays["company_id"].max() < vocab["vocab_sizes"]["company"]
    # the Spark reader of the same folder (as inference_inputs reads it) sees the same rows and not the JSON
    assert sorted(spark.read.parquet(str(out)).select("job_index").toPandas()["job_index"]) == list(range(len(rows)))
    written = pq.read_schema(next(out.glob("*.parquet")))
    as_contract = [(f.name, str(f.type).replace("element", "item")) for f in written]
    assert as_contract == [(f.name, str(f.type)) for f in JOB_SIDE_TABLE]
    run(spark, args)
    again, vocab_again = load_job_table(out)
    assert again.equals(table) and vocab_again == vocab and len(list(out.glob("*.parquet"))) == 1


def test_vocab_reuse_keeps_ids_and_maps_unseen_to_oov(spark, synthetic_catalog, tmp_path):
    first, later, relabelled = tmp_path / "first", tmp_path / "later", tmp_path / "relabelled"
    run(spark, JobTableArgs(ds=DS, catalog=synthetic_catalog, out=first, min_count=3))
    _, old_vocab = load_job_table(first)
    catalog_later = tmp_path / "catalog"
    snap = pq.read_table(synthetic_catalog / "ds=2026-10-20").to_pylist()
    changed = [{**r, "company": "Brand New Co"} if i % 2 else r for i, r in enumerate(snap)]
    write_catalog(spark, catalog_later, date(2026, 10, 20), [tuple(r[n] for n in JOB.names) for r in changed])
    run(spark, JobTableArgs(ds=date(2026, 10, 20), catalog=catalog_later, out=later, vocab=first / VOCAB_FILE))
    table, vocab = load_job_table(later)
    assert vocab["vocabularies"] == old_vocab["vocabularies"] and vocab["vocab_ds"] == str(DS)
    ids = old_vocab["vocabularies"]["company"]
    by_id = {r["job_id"]: r for r in table.to_pylist()[1:]}
    assert sorted(by_id) == sorted(r["job_id"] for r in changed)
    for src in changed:
        name = (src["company"] or "").strip()
        want = 0 if not name else (ids.index(name) + 2 if name in ids else 1)
        assert by_id[src["job_id"]]["company_id"] == want
    assert sum(r["company_id"] == 1 for r in table.to_pylist()) >= len(changed) // 2  # "Brand New Co" → OOV
    assert sum(r["company_id"] >= 2 for r in table.to_pylist()) > 0  # seen companies keep their ids
    with pytest.raises(ConfigError, match="token settings"):
        run(spark, JobTableArgs(ds=DS, catalog=synthetic_catalog, out=relabelled, vocab=first / VOCAB_FILE,
                                tokens=TokenConfig(buckets=99)))


def test_job_id_rows_survive_a_later_snapshot(spark, synthetic_catalog, tmp_path):
    """A known job keeps its learned-id row in a later snapshot although its job_index moves; new postings get 1."""
    first, later, capped = tmp_path / "first", tmp_path / "later", tmp_path / "capped"
    run(spark, JobTableArgs(ds=DS, catalog=synthetic_catalog, out=first))
    old_table, old_vocab = load_job_table(first)
    old_rows = {r["job_id"]: r for r in old_table.to_pylist()[1:]}
    snap = pq.read_table(synthetic_catalog / "ds=2026-10-20").to_pylist()
    fresh = {n: None for n in JOB.names} | {"job_id": "0-new-posting", "title": "Brand new"}  # sorts first
    catalog_later, ds_later = tmp_path / "catalog", date(2026, 10, 20)
    write_catalog(spark, catalog_later, ds_later, [tuple(r[n] for n in JOB.names) for r in [fresh, *snap]])
    run(spark, JobTableArgs(ds=ds_later, catalog=catalog_later, out=later, vocab=first, max_job_ids=3))
    table, vocab = load_job_table(later)
    assert vocab["job_ids"] == old_vocab["job_ids"] and vocab["job_id_rows"] == old_vocab["job_id_rows"]
    assert vocab["max_job_ids"] == 1_000_000  # the reused vocabulary's, not this run's --max-job-ids
    rows = table.to_pylist()
    assert rows[0]["job_id_row"] == 0 and rows[1]["job_id"] == "0-new-posting" and rows[1]["job_id_row"] == 1
    known = [r for r in rows[1:] if r["job_id"] in old_rows]
    assert known and all(r["job_id_row"] == old_rows[r["job_id"]]["job_id_row"] for r in known)
    assert all(r["job_index"] != old_rows[r["job_id"]]["job_index"] for r in known)  # indices shifted
    new = [r for r in rows[1:] if r["job_id"] not in old_rows]
    assert len(new) > 1 and all(r["job_id_row"] == 1 for r in new)
    run(spark, JobTableArgs(ds=DS, catalog=synthetic_catalog, out=capped, max_job_ids=3))
    table, vocab = load_job_table(capped)
    assert vocab["job_ids"] == old_vocab["job_ids"][:3] and vocab["job_id_rows"] == 5
    assert job_table_arrays(table)["job_id_row"].tolist() == [0, 2, 3, 4] + [1] * (len(table) - 4)
    assert parse_args(["--ds", str(DS), "--max-job-ids", "7"]).max_job_ids == 7
    with pytest.raises(SystemExit):
        parse_args(["--ds", str(DS), "--max-job-ids", "0"])


def test_an_old_vocabulary_without_job_ids_is_refused(spark, synthetic_catalog, tmp_path):
    first = tmp_path / "first"
    run(spark, JobTableArgs(ds=DS, catalog=synthetic_catalog, out=first))
    old = {k: v for k, v in json.loads((first / VOCAB_FILE).read_text()).items() if k not in ("job_ids", "job_id_rows")}
    (tmp_path / "old_vocab.json").write_text(json.dumps(old))
    with pytest.raises(DataContractError, match="no 'job_ids'.*[Rr]ebuild"):
        run(spark, JobTableArgs(ds=DS, catalog=synthetic_catalog, out=tmp_path / "again",
                                vocab=tmp_path / "old_vocab.json"))
    assert not (tmp_path / "again").exists()  # refused before any Spark work


def test_boundary_errors(spark, tmp_path):
    with pytest.raises(DataContractError, match="no catalogue snapshot"):
        read_snapshot(spark, tmp_path / "nothing", DS)
    dup = tmp_path / "dup"
    write_catalog(spark, dup, DS, [job("j1"), job("j1", title="again")])
    with pytest.raises(DataContractError, match="duplicate"):
        read_snapshot(spark, dup, DS)
    with pytest.raises(SystemExit):
        parse_args(["--ds", str(DS), "--events", "x"])
    with pytest.raises(DataContractError, match="no job-table vocabulary"):
        load_job_table(tmp_path)


def test_reader_never_imports_pyspark():
    source = Path(__file__).resolve().parents[2] / "jobtrail" / "job_table_io.py"
    names = {a.name for n in ast.walk(ast.parse(source.read_text())) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(ast.parse(source.read_text())) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.split(".")[0] == "pyspark" for m in names)


def side_table_rows(spark, args) -> dict[str, dict]:
    result = run(spark, args)
    table, vocab = load_job_table(args.out)
    assert vocab["catalog"] == result["catalog_source"]
    return {r["job_id"]: r for r in table.to_pylist() if r["job_id"] is not None}, result


def test_a_catalogue_export_attributes_on_the_events_and_no_catalogue(spark, events_table, tmp_path, reliability):
    export = tmp_path / "jobs.csv"
    export.write_text(
        "posting;job_title;employer;city;tags;pay_from;pay_to;published;level\n"
        'j0000000;Data Engineer;Acme;Berlin;"Python; SQL ; ";"45.000,00 €";"55.000,00 €";2026-09-30;3\n'
        "j2;Nurse;Care Co;Hamburg;;;;;\n")
    mapping = tmp_path / "jobs.json"
    mapping.write_text(json.dumps({
        "columns": {"posting": "job_id", "job_title": "title", "employer": "company", "city": "location",
                    "tags": "skills", "pay_from": "salary_min", "pay_to": "salary_max", "published": "posted_ts",
                    "level": "seniority"},
        "decimal_comma": True, "csv": {"sep": ";"}}))
    common = ["--ds", str(DS), "--events", str(events_table), "--start", "2026-10-01", "--end", "2026-10-03"]
    got, result = side_table_rows(spark, parse_args([*common, "--catalog", str(export), "--catalog-mapping",
                                                     str(mapping), "--out", str(tmp_path / "a")]))
    assert result["catalog"] == 2 and result["event_only"] == 1 and result["catalog_source"]["kind"] == "export"
    engineer = got["j0000000"]
    assert engineer["in_catalog"] and engineer["title_tokens"][:2] != [0, 0] and engineer["company_id"] >= 2
    assert engineer["skill_tokens"][2] == 0 and engineer["skill_tokens"][:2] != [0, 0]  # "Python; SQL ; " → 2
    assert engineer["has_salary"] == 1.0 and engineer["has_posted_ts"] == 1.0 and engineer["has_seniority"] == 1.0
    assert engineer["log_posted_age_days"] == pytest.approx(math.log1p(3.0))
    assert got["j2"]["in_catalog"] and got["j2"]["has_salary"] == 0.0 and got["ghost-1"]["in_catalog"] is False

    events = tmp_path / "views.csv"  # the events' export: attributes on every view, titles edited over time
    events.write_text(
        "member,posting,job_title,employer,city,time_ms\n"
        f"u1,j0000000,Data Engineer (m/f),Acme,Berlin,{int(datetime(2026, 9, 1, tzinfo=timezone.utc).timestamp() * 1000)}\n"
        f"u2,j0000000,Senior Data Engineer,,Berlin,{int(datetime(2026, 10, 2, tzinfo=timezone.utc).timestamp() * 1000)}\n"
        f"u3,j0000000,Staff Data Engineer,Acme,Munich,{int(datetime(2026, 10, 9, tzinfo=timezone.utc).timestamp() * 1000)}\n"
        f"u3,ghost-1,Welder,Iron AG,Essen,{int(datetime(2026, 10, 1, tzinfo=timezone.utc).timestamp() * 1000)}\n")
    on_events = tmp_path / "views.json"
    on_events.write_text(json.dumps({"rows": "events", "epoch_unit": "ms", "columns": {
        "posting": "job_id", "job_title": "title", "employer": "company", "city": "location", "time_ms": "ts"}}))
    got, result = side_table_rows(spark, parse_args([*common, "--catalog", str(events), "--catalog-mapping",
                                                     str(on_events), "--out", str(tmp_path / "b")]))
    assert result["catalog"] == 2 and result["catalog_source"]["kind"] == "events"
    [vocab_file] = (tmp_path / "b").glob(VOCAB_FILE)
    vocabularies = json.loads(vocab_file.read_text())["vocabularies"]
    assert vocabularies["location"] == ["Berlin", "Essen"]  # 10-09's Munich lies after the snapshot
    assert vocabularies["company"] == ["Acme", "Iron AG"]  # the latest non-empty value, not the empty one
    senior = tok_ids(spark, "senior")
    assert got["j0000000"]["title_tokens"][0] == senior  # "Senior Data Engineer", the latest before the end of ds

    got, result = side_table_rows(spark, parse_args([*common, "--no-catalog", "--out", str(tmp_path / "c")]))
    assert (result["catalog"], result["event_only"]) == (0, 2) and result["catalog_source"]["kind"] == "none"
    assert all(not r["in_catalog"] and r["title_tokens"] == [0] * 8 and r["job_id_row"] >= 2 for r in got.values())
    with pytest.raises(SystemExit):
        parse_args(["--ds", str(DS), "--no-catalog"])  # id-only jobs need the events
    one_row_per_job = tmp_path / "as_jobs.json"  # the events' export mapped as if it listed each job once
    one_row_per_job.write_text(json.dumps({"columns": {"posting": "job_id", "job_title": "title"}}))
    with pytest.raises(DataContractError, match='duplicate job_ids.*"rows": "events"'):
        run(spark, parse_args([*common, "--catalog", str(events), "--catalog-mapping", str(one_row_per_job),
                               "--out", str(tmp_path / "d")]))
    reliability(area="bad input", case="a catalogue in the platform's own layout, on the events, or none",
                injected="a ';'-separated catalogue export (renamed columns, skills 'Python; SQL ; ', salaries "
                         "'45.000,00 €', a bare posting date); the events' export with titles on every view; no "
                         "catalogue at all; the events' export mapped as one row per job",
                happened="mapped into the side table (2 skills, salary and age parsed); per job the latest non-empty "
                         "attribute up to the end of ds; id-only jobs with learned id rows; the duplicate job ids "
                         "refused naming them and the \"rows\": \"events\" mapping",
                tables="job side table + _vocab.json recording the catalogue's kind")


def tok_ids(spark, word: str) -> int:
    return spark.range(1).select((F.pmod(F.xxhash64(F.lit(word)), F.lit(2**14)) + 1).cast("int").alias("w")).first()["w"]
