"""Faults while the jobs write, with the real components; then what the Delta tables hold.

- A driver killed at a Delta commit (:func:`fault_injection.commit_kill_conf_dir`: the JVM halts before it
  writes ``_delta_log/<version>.json``, the data files already on disk): readers (``deltalake`` and Spark) see
  the previous version, the orphan files are not read, and the retries — the same arguments, the same
  ``--now`` — leave exactly the rows of a clean run. Ingest is killed at each of its three commits in turn;
  the feature table's writer (:func:`feature_store.table.write_partition`, what ``spark_jobs/infer.py`` writes
  with) at its commit.
- Spark tasks failing on their first attempt (``local[2,3]``): ingest's completing retry runs with them and
  must still give the clean run's tables.

The faulted runs are subprocesses (``python -m spark_jobs.ingest``, ``tests/spark_jobs/*_job.py``) with
``SPARK_CONF_DIR`` set; the clean runs, the reference of every case, run in this process's session on one small
input per table, shared by the module.

    make test PYTEST_ARGS="tests/spark_jobs/test_write_faults.py --durations=0"
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

import fault_injection as fi
from jobtrail.contracts import USER_EMBEDDING
from spark_jobs import ingest
from test_ingest import MAPPING, write_lines
from write_features_job import write_day

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
D1, D2 = date(2026, 10, 1), date(2026, 10, 2)
NOW = "2026-10-02T12:00:00Z"
TABLES = ("clean_events", "quarantine_events", "ingest_counts")  # the order ingest commits them
KILL_AT = TABLES[:2]  # one attempt killed per table, in commit order (~20 s of CPU each); the kill at
# ingest_counts, the last commit, is the Airflow retry test of tests/dags/test_end_to_end.py
FEATURES = "user_embeddings"
JOB_ENV = {"JOBTRAIL_SPARK_SHUFFLE_PARTITIONS": "2",  # as the in-process session of the tests
           "JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1"}  # short jobs: C1 only (orchestration.embedded)


def j(**fields) -> str:
    return json.dumps(fields)


DAY_ONE = [
    j(id="a1", uid="u1", action="view", timestamp="2026-10-01T10:00:00Z", job="j1"),
    j(id="a2", uid="u2", action="click", timestamp="2026-10-01T11:00:00Z", job="j2"),
    j(id="a2", uid="u2", action="click", timestamp="2026-10-01T11:05:00Z", job="j2"),  # resend
    "{broken",
]
DAY_TWO = [
    j(id="b1", uid="u1", action="view", timestamp="2026-10-02T09:00:00Z", job="j1", channel="search"),
    j(id="b1", uid="u1", action="view", timestamp="2026-10-02T09:02:00Z", job="j1"),  # resend
    j(id="b2", uid="u2", action="bookmark", timestamp="2026-10-02T10:00:00+02:00", job="j2"),
    j(id="b3", uid="u3", action="search", timestamp="2026-10-02T07:00:00Z", query="data engineer"),
    j(uid="u4", action="apply", timestamp="2026-10-02T08:00:00Z", job="j3"),  # no id: hashed
    j(uid="u4", action="apply", timestamp="2026-10-02T10:00:00+02:00", job="j3"),  # the same event again
    "{broken",
    j(id="q1", uid="u5", action="like", timestamp="2026-10-02T10:00:00Z", job="j1"),
    j(id="q2", uid="u5", action="view", timestamp="2026-10-02T10:00:00Z"),
    j(id="q3", uid="u5", action="view", timestamp="2026-10-02T13:00:00Z", job="j1"),
    j(id="q4", uid="u5", action="view", timestamp="2026-10-01T23:00:00Z", job="j1"),
]


def version_word(version: int) -> str:
    return f"v{version}"


def n_rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def spark_view(spark, path: Path, day: date, column: str = "ds") -> tuple[int, int, set[Path]]:
    """(rows, rows of ``day``, the data files the rows came from) as Spark reads the table now."""
    df = spark.read.format("delta").load(str(path)).select(column, F.col("_metadata.file_path").alias("f"))
    rows = df.collect()
    files = {Path(r.f.removeprefix("file:")).resolve() for r in rows}
    return len(rows), sum(r[column] == day for r in rows), files


# --- ingest ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IngestWorld:
    inputs: dict[date, Path]
    mapping: Path
    reference: Path  # both days, clean runs
    faulted: Path  # day 1 only (a copy of the reference before day 2): the faults happen here
    counts: dict  # the reference's day-2 counts

    def args(self, ds: date, root: Path) -> list[str]:
        return ["--ds", ds.isoformat(), "--input", str(self.inputs[ds]), "--format", "json",
                "--mapping", str(self.mapping), "--data-root", str(root), "--now", NOW]


@pytest.fixture(scope="module")
def ingest_world(spark, tmp_path_factory) -> IngestWorld:
    base = tmp_path_factory.mktemp("ingest_faults")
    mapping = base / "mapping.json"
    mapping.write_text(json.dumps(MAPPING))
    inputs = {D1: write_lines(base / "in" / "d1" / "events.jsonl", DAY_ONE),
              D2: write_lines(base / "in" / "d2" / "events.jsonl", DAY_TWO)}
    world = IngestWorld(inputs, mapping, base / "reference", base / "faulted", {})
    ingest.run(spark, ingest.parse_args(world.args(D1, world.reference)))
    shutil.copytree(world.reference, world.faulted)
    counts = ingest.run(spark, ingest.parse_args(world.args(D2, world.reference)))
    return IngestWorld(inputs, mapping, world.reference, world.faulted, counts)


def test_ingest_killed_at_each_table_commit_then_retried_gives_one_copy(spark, ingest_world, tmp_path, reliability):
    """Attempts each killed at the next table's commit (:data:`KILL_AT`); then the retry that completes, in a
    fresh driver whose tasks fail on their first attempt (``local[2,3]``, :mod:`flaky_job`)."""
    world, root = ingest_world, ingest_world.faulted
    reference = {t: fi.delta_rows(world.reference / t) for t in TABLES}
    day_one = {t: fi.delta_rows(root / t) for t in TABLES}
    versions = {t: fi.delta_version(root / t) for t in TABLES}
    unreferenced = {t: fi.unreferenced_data_files(root / t) for t in TABLES}
    args = world.args(D2, root)
    rows = []
    for i, killed in enumerate(KILL_AT):
        marker = tmp_path / f"killed-at-{killed}"
        conf = fi.commit_kill_conf_dir(tmp_path, table=killed, marker=marker)
        result = fi.run_job(["-m", "spark_jobs.ingest", *args],
                            env=fi.job_env(conf, JOBTRAIL_DATA_ROOT=str(tmp_path), **JOB_ENV))
        assert result.returncode != 0 and marker.exists(), fi.tail(result)
        assert f"halting the driver JVM before writing file:{root / killed}/_delta_log/" in result.stderr
        for t in TABLES[:i]:  # committed by this attempt before the kill: one commit, one copy of day 2
            assert fi.delta_version(root / t) == versions[t] + 1
            assert fi.delta_rows(root / t) == reference[t]
            versions[t] += 1
        for t in TABLES[i:]:  # the killed table and those after it: the previous version, day 1 only
            assert fi.delta_version(root / t) == versions[t] and fi.commit_versions(root / t)[-1] == versions[t]
            assert fi.delta_rows(root / t) == day_one[t]
        orphans = fi.unreferenced_data_files(root / killed) - unreferenced[killed]
        assert orphans and all(f"ds={D2}" in str(p) for p in orphans)  # the killed write's files are on disk
        n, n_day_two, read_from = spark_view(spark, root / killed, D2)
        assert (n, n_day_two) == (len(day_one[killed]), 0) and not orphans & read_from  # ... and never read
        unreferenced = {t: fi.unreferenced_data_files(root / t) for t in TABLES}
        committed = [f"{t} {version_word(versions[t])} (day 2 = clean run)" for t in TABLES[:i]]
        untouched = [f"{t} still {version_word(versions[t])} (day 1: {n_rows(len(day_one[t]))})" for t in TABLES[i:]]
        rows.append(dict(
            case=f"ingest killed at the {killed} commit (attempt {i + 1})",
            injected=f"driver JVM halted by a LogStore just before writing {killed}/_delta_log/"
                     f"{versions[killed] + 1:020d}.json (the day-2 data files already written)",
            happened=f"job exited {result.returncode}; {len(orphans)} orphan data file(s) under {killed}/ds={D2}, "
                     f"read neither by deltalake nor by Spark ({n_rows(n)}, {n_day_two} of day 2)",
            tables="; ".join(filter(None, [", ".join(committed), ", ".join(untouched)]))))

    failures = tmp_path / "task-failures"
    failures.mkdir()
    retry = fi.run_job([str(HERE / "flaky_job.py"), str(failures), *args],
                       env=fi.job_env(conf, JOBTRAIL_DATA_ROOT=str(tmp_path), JOBTRAIL_SPARK_MASTER="local[2,3]",
                                      **JOB_ENV))  # the last kill's conf dir: its marker exists, no kill
    assert retry.returncode == 0, fi.tail(retry)
    failed = sorted(p.name for p in failures.iterdir())
    stages = {name.split("-")[0] for name in failed}
    assert len(failed) >= 2 and len(stages) == len(failed), failed  # one failed attempt per stage, retried
    assert "injected failure: first attempt" in retry.stderr
    counts = json.loads(retry.stdout.strip().splitlines()[-1])
    assert {k: v for k, v in counts.items() if k not in ("job", "ds")} == world.counts
    for t in TABLES:
        assert fi.delta_rows(root / t) == reference[t]  # all days: exactly the clean run's rows, one copy
        assert fi.delta_version(root / t) == versions[t] + 1
    day = [r for r in fi.delta_rows(root / "ingest_counts") if r["ds"] == D2][0]
    in_tables = {t: sum(r["ds"] == D2 for r in fi.delta_rows(root / t)) for t in TABLES}
    assert day["input_rows"] == len(DAY_TWO) == day["clean_rows"] + day["duplicate_rows"] + day["quarantined_rows"]
    assert (day["clean_rows"], day["quarantined_rows"]) == (in_tables["clean_events"], in_tables["quarantine_events"])
    assert day["quarantined_rows"] > 0 and day["duplicate_rows"] > 0

    for row in rows:
        reliability(area="fault", **row)
    reliability(
        area="fault",
        case=f"ingest retried after {len(KILL_AT)} kills, with Spark tasks failing on their first attempt",
        injected=f"the same arguments and --now in a fresh driver, master local[2,3] (3 attempts per task); the "
                 f"input read through an identity mapInArrow that raises in attempt 0 of partition 0: "
                 f"{len(failed)} task attempts failed, in {len(stages)} stages",
        happened=f"Spark retried each failed task once; the job exited 0; input {day['input_rows']} = clean "
                 f"{day['clean_rows']} + duplicates {day['duplicate_rows']} + quarantined {day['quarantined_rows']} "
                 "in ingest_counts",
        tables="all three tables (both days) equal a clean run's into another root; "
               + ", ".join(f"{t} {version_word(versions[t] + 1)}" for t in TABLES))


# --- the feature table's writer ----------------------------------------------------------------------------------

FEATURE_DAYS = (date(2026, 10, 10), date(2026, 10, 11), date(2026, 10, 12))
DIM = 4


def feature_rows() -> list[dict]:
    """Three days of four users of model m/1: computed, carried-forward and cold-start rows (USER_EMBEDDING)."""
    out = []
    for d, day in enumerate(FEATURE_DAYS):
        cutoff = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        for u in range(4):
            cold, carried = u == 3, u == 2 and d > 0
            e = 0 if carried else d  # a carried-forward row repeats day 1's embedding
            embedding = [0.0] * DIM if cold else [float(u + e), 0.5 * u, -1.0 * e, 0.25]
            out.append({"user_id": f"u{u}", "as_of_date": day, "as_of_ts": cutoff, "embedding": embedding,
                        "embedding_dim": DIM, "model_name": "m", "model_version": "1", "n_events": 3 * u + d + 1,
                        "last_event_ts": cutoff.replace(hour=0) if cold else cutoff.replace(day=day.day - 1, hour=9),
                        "is_fallback": cold or carried,
                        "embedding_as_of_date": None if cold else FEATURE_DAYS[0] if carried else day,
                        "computed_at": datetime(2026, 10, 13, 2, u, tzinfo=timezone.utc)})
    return out


@dataclass(frozen=True)
class FeatureWorld:
    rows: Path  # the Parquet file the writer reads its rows from
    reference: Path  # all days, clean runs
    faulted: Path  # the days before the last (a copy of the reference then)


@pytest.fixture(scope="module")
def feature_world(spark, tmp_path_factory) -> FeatureWorld:
    root = tmp_path_factory.mktemp("feature_faults")
    pq.write_table(pa.Table.from_pylist(feature_rows(), USER_EMBEDDING), root / "rows.parquet")
    world = FeatureWorld(root / "rows.parquet", root / "reference" / FEATURES, root / "faulted" / FEATURES)
    for day in FEATURE_DAYS[:-1]:
        write_day(spark, str(world.rows), str(world.reference), day)
    shutil.copytree(world.reference.parent, world.faulted.parent)
    write_day(spark, str(world.rows), str(world.reference), FEATURE_DAYS[-1])
    return world


def test_feature_writer_killed_at_its_commit_then_retried(spark, feature_world, tmp_path, reliability):
    world, path, day = feature_world, feature_world.faulted, FEATURE_DAYS[-1]
    before, version = fi.delta_rows(path), fi.delta_version(path)
    unreferenced = fi.unreferenced_data_files(path)
    marker = tmp_path / "killed-at-user_embeddings"
    conf = fi.commit_kill_conf_dir(tmp_path, table=FEATURES, marker=marker)
    args = [str(world.rows), str(path), day.isoformat()]
    result = fi.run_job([str(HERE / "write_features_job.py"), *args],
                        env=fi.job_env(conf, JOBTRAIL_DATA_ROOT=str(tmp_path), **JOB_ENV))
    assert result.returncode != 0 and marker.exists(), fi.tail(result)
    assert fi.delta_version(path) == version and fi.commit_versions(path)[-1] == version
    assert fi.delta_rows(path) == before and day not in {r["as_of_date"] for r in before}  # the day is absent
    orphans = fi.unreferenced_data_files(path) - unreferenced
    assert orphans and all(f"as_of_date={day}" in str(p) for p in orphans)
    n, n_day, read_from = spark_view(spark, path, day, "as_of_date")
    assert (n, n_day) == (len(before), 0) and not orphans & read_from

    written = write_day(spark, *args[:2], day)  # the retry: the same arguments, in this session
    reference = fi.delta_rows(world.reference)
    assert fi.delta_rows(path) == reference  # every column, computed_at too: the clean run's rows, one copy
    assert written == 4 and fi.delta_version(path) == version + 1

    reliability(
        area="fault", case="feature-table writer killed at its user_embeddings commit",
        injected=f"driver JVM halted just before writing user_embeddings/_delta_log/{version + 1:020d}.json "
                 f"(write_partition of {day}, as infer.py writes; its data files already written)",
        happened=f"job exited {result.returncode}; {len(orphans)} orphan data file(s) under as_of_date={day}, "
                 f"read neither by deltalake nor by Spark; the retry (same arguments) wrote the {written} rows",
        tables=f"after the kill: {version_word(version)}, {len(FEATURE_DAYS) - 1} earlier days only ({len(before)} "
               f"rows); after the retry: {version_word(version + 1)}, {len(reference)} rows equal to a clean run's, "
               "every column")
