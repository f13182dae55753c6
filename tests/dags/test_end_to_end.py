"""Both DAGs end to end with real Airflow (SQLite metadata), Spark (spark-submit, local[2]), TensorFlow, Delta and
MLflow on a tiny synthetic dataset; then a real Airflow (api-server, scheduler, dag-processor on 127.0.0.1)
triggered through the REST API exactly as the UI form does.

The tests share one data root and run in order: training promotes the first champion; the daily DAG runs for a
day as a manual run *without a logical date*; then the REST-triggered run re-runs that day with its ingest task
killed at its last commit — retried by the scheduler, it must leave the tables exactly as the first run left
them — while ``airflow dags test`` backfills the day before in another process at the same time (two dates at
once, an older day after a newer one); a trigger with an invalid date is rejected.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

from jobtrail.tables import Tables
from orchestration.embedded import airflow_env, migrate

pytestmark = pytest.mark.integration

USERS, DAYS, SEED = 240, 10, 5
START = date(2026, 10, 1)
DAY = START + timedelta(days=DAYS - 1)  # ingested by the daily DAG
HISTORY_END = DAY - timedelta(days=1)


@pytest.fixture(scope="module")
def lake(lake_root, root_env, dagbag):
    """Synthetic data, the history in clean_events, the metadata DB; JOBTRAIL_DATA_ROOT for the module."""
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate
    from orchestration.demo import load_history

    with root_env(lake_root) as root:
        generate(GeneratorConfig(users=USERS, days=DAYS, seed=SEED, start=START), root)
        load_history(root, HISTORY_END)
        migrate(dict(os.environ))
        yield root


def run_dag(dag, conf: dict):
    """``dag.test()`` as a manual run without a logical date; returns the finished DagRun."""
    return dag.test(logical_date=None, run_conf=conf)


def table_rows(path: Path, columns: list[str] | None = None, where=None) -> list[dict]:
    from deltalake import DeltaTable

    rows = DeltaTable(str(path)).to_pyarrow_table(columns=columns).to_pylist()
    rows = [r for r in rows if where is None or where(r)]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def snapshot(root: Path) -> dict[str, list[dict]]:
    """What a re-run of DAY must leave unchanged: every row and value of its partitions (``computed_at`` too)."""
    as_of = DAY + timedelta(days=1)
    feature_columns = None
    return {
        "clean": table_rows(root / Tables.CLEAN_EVENTS, where=lambda r: r["ds"] == DAY),
        "quarantine": table_rows(root / Tables.QUARANTINE, where=lambda r: r["ds"] == DAY)
        if (root / Tables.QUARANTINE).exists() else [],
        "counts": table_rows(root / Tables.INGEST_COUNTS, where=lambda r: r["ds"] == DAY),
        "inputs": table_rows(root / Tables.INFERENCE_INPUTS, where=lambda r: r["as_of_date"] == as_of),
        "features": table_rows(root / Tables.FEATURE_TABLE, feature_columns, where=lambda r: r["as_of_date"] == as_of),
    }


def test_a_bad_day_fails_at_plan_naming_the_step_and_the_log(lake, daily, caplog):
    """No raw events for the day: the run fails at once (no retries) with a message an operator can act on."""
    run = run_dag(daily, {"ds": "2026-09-01"})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed" and states["plan"] == "failed"
    assert {states[t] for t in ("ingest", "infer", "publish")} <= {None, "upstream_failed"}  # nothing else ran
    text = caplog.text
    assert "no raw events for ds=2026-09-01" in text
    assert "jobtrail_daily_embeddings: step 'plan' failed in run" in text and "Log: http" in text


@pytest.fixture(scope="module")
def trained(lake, training):
    run = run_dag(training, {"start": START.isoformat(), "end": HISTORY_END.isoformat(),
                             "valid_from": (HISTORY_END - timedelta(days=4)).isoformat(), "aggregator": "mean",
                             "window": 16, "epochs": 6, "batch_size": 16, "learning_rate": 0.005, "baselines": []})
    # a horizon of several days: the gate needs validation users to tell the model from popularity
    return run


def test_training_dag_trains_registers_and_promotes(trained, lake):
    assert trained.state == "success"
    reports = list((lake / "models" / "jobtrail_user_embeddings").glob("*/report.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert report["model_version"] == "1" and report["promotion"]["promoted"] is True  # the first champion
    gate = report["promotion"]  # it beat the popularity ranking on the same validation users
    assert gate["candidate"]["recall@10"] > gate["baseline"]["recall@10"] and gate["baseline"]["name"] == "popularity ranking"
    assert set(report["metrics"]) >= {"val_auc", "val_loss"} and report["baselines"] == {}
    assert (lake / Tables.TRAINING_EXAMPLES).is_dir()
    states = {ti.task_id: ti.state for ti in trained.get_task_instances()}
    assert states["train_baselines"] == "skipped"  # no baselines chosen: mapped over nothing ...
    assert states["report"] == "success"  # ... and the report still runs (the demo trains two baselines)
    assert states["trigger_daily"] == "skipped"  # refresh_daily was not asked for


@pytest.fixture(scope="module")
def first_daily(trained, lake, daily):
    run = run_dag(daily, {"ds": DAY.isoformat()})
    return run, snapshot(lake)


def test_daily_dag_without_logical_date_publishes_the_asset(first_daily, lake):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    run, tables = first_daily
    assert run.state == "success" and run.logical_date is None
    assert len(tables["clean"]) > 0 and len(tables["features"]) == len(tables["inputs"]) > 0
    assert {r["model_version"] for r in tables["features"]} == {"1"}
    with create_session() as session:
        events = (session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                  .filter(AssetModel.name == "jobtrail_user_embeddings").all())
        extras = [e.extra for e in events if e.source_run_id == run.run_id]
    assert len(extras) == 1
    extra = extras[0]
    assert (extra["ds"], extra["as_of_date"]) == (DAY.isoformat(), (DAY + timedelta(days=1)).isoformat())
    assert (extra["model_name"], extra["model_version"], extra["rows"]) == (
        "jobtrail_user_embeddings", "1", len(tables["features"]))
    assert extra["monitoring"]["status"] == "pass"


OLDER = DAY - timedelta(days=1)


def start_older_day(lake: Path, home: Path) -> tuple[subprocess.Popen, Path]:
    """``airflow dags test`` of OLDER in its own process, with a copy of the metadata DB, on the same data root."""
    home.mkdir(parents=True)
    shutil.copy(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db", home / "airflow.db")
    log = home / "dags-test.log"
    command = [sys.executable, "-m", "airflow", "dags", "test", "jobtrail_daily_embeddings",
               "--conf", json.dumps({"ds": OLDER.isoformat()})]
    with log.open("w") as out:
        return subprocess.Popen(command, env=airflow_env(home, lake), stdout=out, stderr=subprocess.STDOUT), log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(method: str, url: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.fixture(scope="module")
def airflow_server(first_daily, lake, tmp_path_factory):
    """api-server, scheduler and dag-processor on 127.0.0.1 with their own metadata DB and password file."""
    import fault_injection

    home = tmp_path_factory.mktemp("airflow-server")
    port = _free_port()
    # the first attempt of the ingest task dies at its last commit (ingest_counts), after clean_events and
    # quarantine_events were committed; the scheduler retries it after JOBTRAIL_RETRY_DELAY_SECONDS
    conf_dir = fault_injection.commit_kill_conf_dir(home / "spark-conf", table=Tables.INGEST_COUNTS,
                                                    marker=home / "ingest-killed")
    (home / "passwords.json").write_text(json.dumps({"admin": "jobtrail-test"}))
    env = airflow_env(home, lake, paused_at_creation=True)
    env.update({"AIRFLOW__API__PORT": str(port), "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__PARALLELISM": "2",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__API_AUTH__JWT_SECRET": "jobtrail-test-secret",
                "SPARK_CONF_DIR": str(conf_dir), "JOBTRAIL_RETRY_DELAY_SECONDS": "3",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2"})
    migrate(env)
    logs = home / "service-logs"
    logs.mkdir()
    processes = []
    for component in (["api-server", "--port", str(port)], ["scheduler"], ["dag-processor"]):
        out = (logs / f"{component[0]}.log").open("w")
        processes.append(subprocess.Popen([sys.executable, "-m", "airflow", *component], env=env, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                status, _ = _request("GET", f"{base}/api/v2/version")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, (logs / "api-server.log").read_text()[-3000:]
            assert all(p.poll() is None for p in processes), "an Airflow component exited; see " + str(logs)
            time.sleep(2)
        status, body = _request("POST", f"{base}/auth/token", body={"username": "admin", "password": "jobtrail-test"})
        assert status in (200, 201), body
        yield base, body["access_token"], logs, home / "ingest-killed"
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)


def test_rest_api_rejects_bad_params_and_a_rerun_retried_after_a_crash_is_identical(
        airflow_server, first_daily, lake, reliability):
    base, token, logs, killed = airflow_server
    dag = f"{base}/api/v2/dags/jobtrail_daily_embeddings"
    assert _request("GET", dag)[0] == 401  # authentication is on
    deadline = time.monotonic() + 300
    while _request("GET", dag, token)[0] != 200:  # the dag-processor has not parsed the file yet
        assert time.monotonic() < deadline, (logs / "dag-processor.log").read_text()[-3000:]
        time.sleep(3)
    assert _request("PATCH", dag, token, {"is_paused": False})[0] == 200

    status, body = _request("POST", f"{dag}/dagRuns", token, {"logical_date": None, "conf": {"ds": "2026-02-30"}})
    assert status == 400 and "ds" in json.dumps(body)
    status, body = _request("POST", f"{dag}/dagRuns", token,
                            {"logical_date": None, "conf": {"ds": DAY.isoformat(), "raw_input": "../../etc"}})
    assert status == 400 and "raw_input" in json.dumps(body)

    form = {"ds": DAY.isoformat(), "incremental": False, "lookback_days": 90, "model_name": "jobtrail_user_embeddings",
            "model_alias": "champion", "model_version": None, "raw_input": "raw_events/ds={ds}", "input_format": None,
            "mapping": None, "catalog": "job_catalog"}  # every field, as the trigger form submits them
    older, older_log = start_older_day(lake, logs.parent / "older-day")  # the backfill, at the same time
    status, run = _request("POST", f"{dag}/dagRuns", token, {"logical_date": None, "conf": form})
    assert status == 200, run
    deadline = time.monotonic() + 1500
    while True:
        status, state = _request("GET", f"{dag}/dagRuns/{run['dag_run_id']}", token)
        if state.get("state") in ("success", "failed"):
            break
        assert time.monotonic() < deadline, "the REST-triggered run did not finish; see " + str(logs)
        time.sleep(10)
    assert state["state"] == "success", f"see the task logs under {logs.parent / 'logs'}"
    status, ingest = _request("GET", f"{dag}/dagRuns/{run['dag_run_id']}/taskInstances/ingest", token)
    assert killed.exists() and ingest["try_number"] == 2  # the first attempt died at the commit; the retry ran
    tables = snapshot(lake)
    assert tables == first_daily[1]  # the re-run of the same day left every row and value as it was
    assert older.wait(timeout=900) == 0, older_log.read_text()[-4000:]
    backfill = check_older_day(lake)
    reliability(
        area="fault", case="Airflow task retried after it wrote part of its output",
        injected="REST-triggered re-run of a published day; the ingest task's Spark driver halted (no clean-up) as "
                 "it was about to commit ingest_counts, after clean_events and quarantine_events were committed",
        happened="attempt 1 failed; the real scheduler retried ingest (try 2) and the run succeeded",
        tables=f"{len(tables['clean'])} clean events, {len(tables['features'])} feature rows: every table's rows "
               "for the day equal the first clean run's, computed_at included")
    reliability(
        area="rerun and backfill", case="daily DAG for two dates at the same time; a backfill of an older day after a newer one",
        injected=f"`airflow dags test` for ds={OLDER} (own process and metadata DB, same data root and registry) "
                 f"started with the REST-triggered re-run of ds={DAY}, after ds={DAY} was published",
        happened="both runs succeeded: Delta commits to different partitions of the same tables do not conflict; the "
                 f"backfilled day's monitoring compared with {backfill['previous'] or 'no earlier partition'}, never "
                 "with the newer day",
        tables=f"ds={OLDER}: {backfill['rows']} feature rows, one per user with inputs, ingest counts reconcile "
               f"({backfill['counts']}); ds={DAY}: equal to its first run in every row")


def check_older_day(lake: Path) -> dict:
    """The backfilled day is complete: one feature row per user with inputs, reconciled counts, monitoring passed
    and compared with an earlier partition only (there is none: the newer day must not be used)."""
    as_of = OLDER + timedelta(days=1)
    inputs = [r["user_id"] for r in table_rows(lake / Tables.INFERENCE_INPUTS, ["user_id", "as_of_date"],
                                               where=lambda r: r["as_of_date"] == as_of)]
    features = table_rows(lake / Tables.FEATURE_TABLE, ["user_id", "model_version", "as_of_date"],
                          where=lambda r: r["as_of_date"] == as_of)
    assert sorted(r["user_id"] for r in features) == sorted(inputs) and len(set(inputs)) == len(inputs) > 0
    assert {r["model_version"] for r in features} == {"1"}
    (counts,) = table_rows(lake / Tables.INGEST_COUNTS, where=lambda r: r["ds"] == OLDER)
    parts = (counts["clean_rows"], counts["duplicate_rows"], counts["quarantined_rows"])
    assert counts["input_rows"] == sum(parts) > 0
    (check,) = table_rows(lake / Tables.MONITORING, where=lambda r: r["as_of_date"] == as_of)
    assert check["status"] == "pass" and check["previous_as_of_date"] is None
    return {"rows": len(features), "previous": check["previous_as_of_date"],
            "counts": f"{counts['input_rows']} = {' + '.join(map(str, parts))}"}
