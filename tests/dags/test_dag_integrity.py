"""DAG integrity with one DagBag: no import errors, tags, retries, timeouts, Params schemas, the task graph,
each file parsed alone and what a DAG file imports."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from jobtrail.settings import REPO_ROOT
from orchestration.plans import DAILY_PARAMS, HISTORY_PARAMS, TRAINING_PARAMS

DAILY_EDGES = {
    ("plan", "ingest"), ("plan", "resolve_model"), ("ingest", "job_table"), ("resolve_model", "job_table"),
    ("job_table", "inference_inputs"), ("inference_inputs", "infer"), ("infer", "monitor"), ("monitor", "publish"),
    ("plan", "publish"), ("resolve_model", "publish"),
}
TRAINING_EDGES = {
    ("plan", "timelines"), ("timelines", "job_table"), ("job_table", "examples"), ("examples", "train"),
    ("examples", "train_baselines"), ("baseline_runs", "train_baselines"), ("train", "candidate"),
    ("candidate", "promote"), ("promote", "report"), ("train_baselines", "promote"), ("report", "refresh_requested"),
    ("refresh_requested", "trigger_daily"),
}
HISTORY_EDGES = {("plan", "ingest"), ("ingest", "timelines"), ("timelines", "job_table"),
                 ("job_table", "inference_inputs"), ("inference_inputs", "summary"), ("plan", "summary")}
SPARK_TASKS = {"jobtrail_daily_embeddings": ["ingest", "job_table", "inference_inputs", "infer", "monitor"],
               "jobtrail_training": ["timelines", "job_table", "examples"],
               "jobtrail_history_load": ["ingest", "timelines", "job_table", "inference_inputs"]}
DAG_IDS = list(SPARK_TASKS)


def edges(dag) -> set[tuple[str, str]]:
    return {(up, task.task_id) for task in dag.tasks for up in task.upstream_task_ids}


def conf_errors(dag, conf: dict) -> str | None:
    """What Airflow says when a run is triggered with ``conf`` (the form, REST API and CLI all validate this way)."""
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(dag.params)
    try:
        for key, value in conf.items():
            params[key] = value
        params.validate()
    except ParamValidationError as e:
        return str(e)
    return None


def test_no_import_errors_and_three_dags(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == set(DAG_IDS)


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_dag_settings(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert {"jobtrail"} < set(dag.tags)
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert dag.doc_md and "###" in dag.doc_md and "step" in dag.doc_md
    assert dag.dagrun_timeout is not None
    for task in dag.tasks:
        assert task.execution_timeout is not None and task.execution_timeout <= timedelta(hours=6), task.task_id
        assert task.on_failure_callback, task.task_id
        if task.task_id not in ("plan", "baseline_runs", "report", "refresh_requested", "trigger_daily", "summary"):
            assert task.retries >= 1 and task.retry_delay >= timedelta(minutes=1), task.task_id


def test_daily_graph_and_schedule(daily):
    assert edges(daily) >= DAILY_EDGES
    assert {t.task_id for t in daily.tasks} == {"plan", "ingest", "resolve_model", "job_table", "inference_inputs",
                                                "infer", "monitor", "publish"}
    assert type(daily.timetable).__name__ == "CronDataIntervalTimetable"  # ds = the data interval's day
    publish = daily.get_task("publish")
    assert [a.name for a in publish.outlets] == ["jobtrail_user_embeddings"]
    assert publish.outlets[0].uri.endswith("/user_embeddings")


def test_training_graph(training):
    assert edges(training) >= TRAINING_EDGES
    assert training.get_task("report").trigger_rule == "none_failed"  # no baselines chosen: report still runs
    trigger = training.get_task("trigger_daily")
    assert trigger.trigger_dag_id == "jobtrail_daily_embeddings"
    assert training.get_task("train").retries == 1  # a retry resumes from the run folder's checkpoint


def test_history_load_graph(history):
    assert edges(history) >= HISTORY_EDGES
    assert type(history.timetable).__name__ == "NullTimetable"  # triggered by an operator, never scheduled
    assert history.get_task("plan").retries == 0 and history.get_task("summary").retries == 1


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_spark_steps_use_spark_submit_with_spark_default(dagbag, dag_id):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    dag = dagbag.dags[dag_id]
    for task_id in SPARK_TASKS[dag_id]:
        task = dag.get_task(task_id)
        assert isinstance(task, SparkSubmitOperator), task_id
        assert task._conn_id == "spark_default"
        assert task.application == str(REPO_ROOT / "spark_jobs" / f"{task_id}.py")
        assert not isinstance(task.application_args, str)  # an XCom list from the plan, never a shell string


def test_params_are_typed_and_complete(daily, training, history):
    assert set(daily.params) == set(DAILY_PARAMS)
    assert set(training.params) == set(TRAINING_PARAMS)
    assert set(history.params) == set(HISTORY_PARAMS)
    for dag in (daily, training, history):
        for name, param in dag.params.items():
            assert param.schema.get("type"), f"{dag.dag_id}.{name} has no type"
            assert param.schema.get("title"), f"{dag.dag_id}.{name} has no title"
            assert param.schema.get("section"), f"{dag.dag_id}.{name} is in no form section"
    assert daily.params.validate()["model_alias"] == "champion"
    assert training.params.get_param("baselines").schema["examples"] == ["mean", "decay"]  # a pick list in the form
    assert daily.params.get_param("input_format").schema["values_display"][None] == "the mapping's (else parquet)"
    assert training.params.validate()["aggregator"] == "transformer"
    assert training.params.get_param("aggregator").schema["enum"] == ["mean", "decay", "cnn", "transformer", "multiseq"]
    assert training.params.get_param("window").schema["minimum"] == 8
    assert training.params.get_param("window").schema["maximum"] == 256


def bounded(schema: dict) -> bool:
    """A choice list, a numeric range, a pattern, or a bounded list of bounded items."""
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if "boolean" in types or "enum" in schema:
        return True
    if {"integer", "number"} & set(types):
        return "maximum" in schema and ("minimum" in schema or "exclusiveMinimum" in schema)
    if "array" in types:
        return "maxItems" in schema or "enum" in schema["items"] or "examples" in schema
    return "pattern" in schema


def test_every_form_field_says_what_it_takes(daily, training, history):
    """The rendered form of each DAG: every field has a description and a bound or a choice list, and a number's
    description shows the range its schema checks."""
    from orchestration.params import bounds

    for dag in (daily, training, history):
        for name, param in dag.params.items():
            rendered = json.loads(json.dumps(dag.params.get_param(name).dump(), default=str))
            where = f"{dag.dag_id}.{name}"
            assert len(rendered["description"] or "") > 20, f"{where} has no description"
            assert bounded(rendered["schema"]), f"{where} has neither a bound nor choices"
            assert bounds(rendered["schema"]) in rendered["description"], f"{where} does not show its range"


@pytest.mark.parametrize("conf", [
    {"ds": "2026-10-31"}, {"ds": None}, {"ds": "2026-10-31", "incremental": True, "model_version": 3},
    {"model_name": "jobtrail.user-embeddings_2"}, {"raw_input": "exports/2026/ds={ds}", "input_format": "csv"},
])
def test_daily_accepts(daily, conf):
    assert conf_errors(daily, conf) is None


@pytest.mark.parametrize("conf, field", [
    ({"ds": "2026-13-01"}, "ds"), ({"ds": "2026-02-30"}, "ds"), ({"ds": "31/10/2026"}, "ds"),
    ({"ds": "2026-10-31; rm -rf /"}, "ds"), ({"model_name": "../../etc"}, "model_name"),
    ({"model_name": "1model"}, "model_name"), ({"model_name": "a b"}, "model_name"),
    ({"model_alias": "champion;ls"}, "model_alias"), ({"raw_input": "../outside"}, "raw_input"),
    ({"raw_input": "raw/../../etc"}, "raw_input"), ({"raw_input": "/etc/passwd"}, "raw_input"),
    ({"mapping": "../mapping.json"}, "mapping"), ({"input_format": "xml"}, "input_format"),
    ({"lookback_days": 0}, "lookback_days"), ({"model_version": "latest"}, "model_version"),
])
def test_daily_rejects(daily, conf, field):
    error = conf_errors(daily, conf)
    assert error is not None and field in error


@pytest.mark.parametrize("conf, field", [
    ({"start": "2026-1-1"}, "start"), ({"end": "yesterday"}, "end"), ({"window": 4}, "window"),
    ({"window": 512}, "window"), ({"aggregator": "lstm"}, "aggregator"), ({"epochs": 0}, "epochs"),
    ({"baselines": ["transformer"]}, "baselines"), ({"learning_rate": 0}, "learning_rate"),
    ({"negatives_per_positive": -1}, "negatives_per_positive"), ({"catalog": "../catalog"}, "catalog"),
    ({"model_name": "x/y"}, "model_name"),
])
def test_training_rejects(training, conf, field):
    error = conf_errors(training, conf)
    assert error is not None and field in error


@pytest.mark.parametrize("conf, field", [
    ({}, "start"), ({"start": "2026-04-01"}, "end"), ({"start": "2026-4-1", "end": "2026-10-06"}, "start"),
    ({"start": "2026-04-01", "end": "2026-10-06", "inputs": []}, "inputs"),
    ({"start": "2026-04-01", "end": "2026-10-06", "inputs": ["/etc"]}, "inputs"),
    ({"start": "2026-04-01", "end": "2026-10-06", "catalog_mapping": "../m.json"}, "catalog_mapping"),
    ({"start": "2026-04-01", "end": "2026-10-06", "max_quarantine_share": 1.5}, "max_quarantine_share"),
])
def test_history_load_rejects(history, conf, field):
    error = conf_errors(history, conf)
    assert error is not None and field in error


def test_history_load_accepts_an_export_with_inline_attributes(history):
    assert conf_errors(history, {"start": "2026-04-01", "end": "2026-10-06", "inputs": ["exports/portal"],
                                 "mapping": "exports/events.json", "catalog": "exports/portal",
                                 "catalog_mapping": "exports/attributes.json", "window": 16}) is None
    assert conf_errors(history, {"start": "2026-04-01", "end": "2026-10-06", "no_catalog": True}) is None


def test_training_accepts_the_demo_form(training):
    assert conf_errors(training, {"start": "2026-10-01", "end": "2026-10-28", "valid_from": "2026-10-26",
                                  "aggregator": "cnn", "window": 16, "stride": 2, "negatives_per_positive": 2,
                                  "epochs": 3, "embedding_dim": 32, "baselines": ["mean", "decay"]}) is None


def test_each_dag_file_parses_alone_with_its_dag():
    """The dag-processor parses one file at a time (after pre-importing its ``airflow.*`` imports): each file must
    declare its own DAG without relying on another file of the folder having been parsed first. What a parse costs
    is kept small by the next test (no Spark, TensorFlow, MLflow or pyarrow is imported)."""
    import importlib

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.file import iter_airflow_imports

    files = sorted((REPO_ROOT / "dags").glob("*.py"))
    found = set()
    for path in files:
        for module in iter_airflow_imports(str(path)):
            importlib.import_module(module)
        bag = DagBag(dag_folder=str(path))
        assert not bag.import_errors, bag.import_errors
        assert len(bag.dags) == 1, f"{path.name} declares {sorted(bag.dags)}"
        found |= set(bag.dags)
    assert found == set(DAG_IDS)


def test_dag_files_import_no_spark_tensorflow_mlflow_or_pyarrow():
    """Parse the DAG files in a fresh interpreter and list the heavy modules that got imported (the scheduler
    parses every file every few minutes: the forms and plans read ``jobtrail.tables``, not the Arrow contracts)."""
    code = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(REPO_ROOT / 'dags')!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'tensorflow', 'mlflow', 'tf_keras',"
        " 'tensorflow_recommenders', 'deltalake', 'delta', 'pyarrow'))\n"
        "print(json.dumps({'dags': sorted(bag.dag_ids), 'errors': list(bag.import_errors), 'heavy': heavy}))\n"
    )
    env = {**os.environ, "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300"}  # a busy machine is not an import error
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"dags": sorted(DAG_IDS), "errors": [], "heavy": []}


@pytest.mark.parametrize("launcher, operator", [("kubernetes", "KubernetesPodOperator"), ("docker", "DockerOperator")])
def test_training_dag_with_each_launcher(training, monkeypatch, launcher, operator):
    """The launcher is configuration: the same graph, the training steps built by the chosen provider."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("JOBTRAIL_TRAIN_LAUNCHER", launcher)
    monkeypatch.setenv("JOBTRAIL_TRAIN_IMAGE", "registry.example/jobtrail-trainer:1")
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "jobtrail_training.py"))
    assert bag.import_errors == {}
    dag = bag.dags["jobtrail_training"]
    assert edges(dag) == edges(training)
    train, baselines = dag.get_task("train"), dag.get_task("train_baselines")
    assert type(train).__name__ == operator and train.image == "registry.example/jobtrail-trainer:1"
    assert baselines.operator_class.__name__ == operator  # mapped over the baselines' argument lists
    assert train.retries == 1 and train.on_failure_callback
