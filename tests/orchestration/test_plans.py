"""Run plans: the day a run processes, and argument lists that each job's own parser accepts as intended."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from jobtrail.errors import ConfigError
from jobtrail.tables import Tables
from orchestration.daily import model_steps
from orchestration.plans import DailyPlan, daily_plan, run_day, training_plan

RUN_AFTER = datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc)


def test_run_day_prefers_the_param_then_the_interval_then_yesterday():
    interval = datetime(2026, 10, 30, 1, 0, tzinfo=timezone.utc)
    assert run_day("2026-10-05", data_interval_start=interval, run_after=RUN_AFTER) == date(2026, 10, 5)
    assert run_day(None, data_interval_start=interval, run_after=RUN_AFTER) == date(2026, 10, 30)
    assert run_day("", data_interval_start=None, run_after=RUN_AFTER) == date(2026, 10, 31)  # no logical date
    with pytest.raises(ConfigError, match="ds="):
        run_day("2026-10-32", data_interval_start=interval, run_after=RUN_AFTER)


def test_daily_plan_defaults(tmp_path):
    plan = daily_plan({}, ds=date(2026, 10, 30), data_root=tmp_path)
    assert plan.as_of == date(2026, 10, 31)
    assert plan.model_uri == "models:/jobtrail_user_embeddings@champion"
    assert plan.raw_input == tmp_path.resolve() / "raw_events" / "ds=2026-10-30"
    assert daily_plan({"model_version": 4}, ds=date(2026, 10, 30), data_root=tmp_path).model_uri == \
        "models:/jobtrail_user_embeddings/4"
    assert DailyPlan.from_xcom(plan.to_xcom()) == plan


@pytest.mark.parametrize("params, message", [
    ({"raw_input": "../../etc"}, "raw_input"), ({"mapping": "/etc/mapping.json"}, "mapping"),
    ({"model_name": "../x"}, "model_name"), ({"lookback_days": 0}, "lookback_days"),
    ({"input_format": "xml"}, "input_format"), ({"dss": "2026-10-30"}, "unknown parameter"),
])
def test_daily_plan_refuses(tmp_path, params, message):
    with pytest.raises(ConfigError, match=message):
        daily_plan(params, ds=date(2026, 10, 30), data_root=tmp_path)


def test_ingest_args_parse_as_intended(tmp_path):
    from spark_jobs.ingest_config import parse_args

    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "m.json").write_text('{"columns": {"uid": "user_id"}}')
    plan = daily_plan({"raw_input": "exports/{ds}.csv", "input_format": "csv", "mapping": "maps/m.json"},
                      ds=date(2026, 10, 30), data_root=tmp_path)
    args = parse_args(plan.ingest_args())
    assert args.start == args.end == date(2026, 10, 30)  # the daily run: a range of one day
    assert args.inputs == (str(tmp_path.resolve() / "exports" / "2026-10-30.csv"),)
    assert args.now == datetime(2026, 10, 31, tzinfo=timezone.utc)  # the end of ds: reruns write identical rows
    assert args.config.format == "csv"
    assert args.clean_path == tmp_path / Tables.CLEAN_EVENTS


def test_model_dependent_args_parse_as_intended(tmp_path):
    from spark_jobs import infer, inference_inputs, job_table, monitor

    plan = daily_plan({"lookback_days": 30, "incremental": True}, ds=date(2026, 10, 30), data_root=tmp_path)
    steps = model_steps(plan, tmp_path / "model", "m", "3", {"window": 16, "query_tokens": 4}, run_id="d/r1")
    table = job_table.parse_args(steps["job_table_args"])
    assert (table.ds, table.start, table.end) == (date(2026, 10, 30), date(2026, 10, 1), date(2026, 10, 30))
    assert table.vocab == tmp_path / "model" / "assets" / "job_vocab.json"
    assert table.out == tmp_path / Tables.JOB_SIDE_TABLE / "ds=2026-10-30"
    inputs = inference_inputs.parse_args(steps["inference_inputs_args"])
    assert (inputs.as_of, inputs.lookback_days, inputs.window.window) == (date(2026, 10, 31), 30, 16)
    assert inputs.job_table == table.out
    assert steps["model_uri"] == "models:/m/3"  # every step uses the version resolved once
    inf = infer.parse_args(steps["infer_args"])
    assert (inf.as_of, inf.model, inf.job_table, inf.mode) == (date(2026, 10, 31), "models:/m/3", table.out, "incremental")
    assert inf.run_id == "d/r1" and inf.out == tmp_path / Tables.FEATURE_TABLE
    mon = monitor.parse_args(steps["monitor_args"])
    assert (mon.as_of, mon.model_name, mon.model_version, mon.features) == (
        date(2026, 10, 31), "m", "3", tmp_path / Tables.FEATURE_TABLE)
    full = model_steps(daily_plan({}, ds=date(2026, 10, 30), data_root=tmp_path), tmp_path / "model", "m", "3",
                       {"window": 16})
    assert infer.parse_args(full["infer_args"]).mode == "full"
    with pytest.raises(ConfigError, match="window"):
        model_steps(plan, tmp_path / "model", "m", "3", {})


def test_training_plan_defaults_and_args(tmp_path):
    from spark_jobs import examples, job_table, timelines
    from tf_models.train import parse_args as train_args

    plan = training_plan({"aggregator": "cnn", "window": 16, "stride": 2, "negatives_per_positive": 3, "epochs": 2,
                          "embedding_dim": 32, "baselines": ["mean", "decay"]},
                         run_after=RUN_AFTER, run_id="manual__2026-11-01T01:30:00+00:00", data_root=tmp_path)
    assert (plan.start, plan.valid_from, plan.end) == (date(2026, 10, 4), date(2026, 10, 29), date(2026, 10, 31))
    tl = timelines.parse_args(plan.timelines_args())
    assert (tl.start, tl.end) == (plan.start, plan.end)
    jt = job_table.parse_args(plan.job_table_args())
    assert jt.out == plan.examples_dir / "job_side_table" and jt.vocab is None and jt.ds == plan.end
    ex = examples.parse_args(plan.examples_args())  # the dense objective: per-position sequences
    assert (ex.sequence.window, ex.sequence.chunk_stride, ex.sequence.negatives_per_position) == (16, 2, 3)
    assert ex.window is None and ex.valid_from == date(2026, 10, 29) and ex.out == plan.examples_dir
    tr = train_args(plan.train_args()[1:])
    assert (tr.model, tr.epochs, tr.embedding_dim, tr.registered_name) == ("cnn", 2, 32, "jobtrail_user_embeddings")
    assert tr.objective == "dense"
    baseline = training_plan({"objective": "next-action", "window": 16, "negatives_per_positive": 3},
                             run_after=RUN_AFTER, run_id="r", data_root=tmp_path)
    windows = examples.parse_args(baseline.examples_args())  # the seeds' one-target windows, stride 1
    assert (windows.window.window, windows.window.stride, windows.window.negatives_per_positive) == (16, 1, 3)
    assert windows.sequence is None and train_args(baseline.train_args()[1:]).objective == "next-action"
    default = examples.parse_args(training_plan({}, run_after=RUN_AFTER, run_id="r", data_root=tmp_path)
                                  .examples_args())
    assert default.sequence.chunk_stride == 31  # W − 1: chunks that do not overlap
    assert tr.examples == plan.examples_dir and tr.out == plan.model_dir()
    baselines = [train_args(a[1:]) for a in plan.baseline_args()]
    assert [(b.model, b.registered_name) for b in baselines] == [("mean", None), ("decay", None)]
    assert plan.promote_args("7")[:5] == ["promote", "--name", "jobtrail_user_embeddings", "--version", "7"]
    from tf_models.promote import parse_args as promote_args

    gate = promote_args(plan.promote_args("7", plan.baseline_models())[1:])  # the baselines the candidate must beat
    assert gate.baseline_models == (plan.model_dir("mean") / "saved_model", plan.model_dir("decay") / "saved_model")
    same = training_plan({"aggregator": "mean", "baselines": ["mean", "decay"]}, run_after=RUN_AFTER, run_id="r",
                         data_root=tmp_path)
    assert same.baseline_models() == [same.model_dir("decay") / "saved_model"]  # never the candidate itself
    assert all(isinstance(a, str) for a in plan.train_args() + plan.examples_args())


@pytest.mark.parametrize("params, message", [
    ({"start": "2026-10-20", "end": "2026-10-10"}, "start < valid_from"),
    ({"start": "2026-10-01", "end": "2026-10-10", "valid_from": "2026-10-01"}, "start < valid_from"),
    ({"start": "2025-01-01", "end": "2026-10-10"}, "more than a year"),
    ({"aggregator": "lstm"}, "aggregator"), ({"baselines": ["cnn"]}, "baselines"),
    ({"catalog": "../x"}, "catalog"), ({"window": 300}, "window"), ({"objective": "bpr"}, "objective"),
    ({"stride": 0}, "stride"),
])
def test_training_plan_refuses(tmp_path, params, message):
    with pytest.raises(ConfigError, match=message):
        training_plan(params, run_after=RUN_AFTER, run_id="r", data_root=tmp_path)


def test_run_folders_stay_inside_the_data_root(tmp_path):
    plan = training_plan({}, run_after=RUN_AFTER, run_id="../../../etc", data_root=tmp_path)
    assert Path(plan.examples_dir).resolve().is_relative_to(tmp_path.resolve())
    assert Path(plan.model_dir()).resolve().is_relative_to(tmp_path.resolve())


def test_catalogue_options_reach_job_table_in_every_dag(tmp_path):
    """Snapshots, a mapped export (``{ds}`` filled in) or none: the same three choices as ``job-table``'s flags."""
    from spark_jobs import job_table

    ds = date(2026, 10, 30)
    mapped = {"catalog": "exports/jobs_{ds}.csv", "catalog_mapping": "maps/jobs.json"}
    daily = job_table.parse_args(model_steps(daily_plan(mapped, ds=ds, data_root=tmp_path), tmp_path / "model", "m",
                                             "3", {"window": 16})["job_table_args"])
    assert daily.catalog == tmp_path.resolve() / "exports" / "jobs_2026-10-30.csv"
    assert daily.catalog_mapping == tmp_path.resolve() / "maps" / "jobs.json"
    train = training_plan({**mapped, "end": "2026-10-30"}, run_after=RUN_AFTER, run_id="r", data_root=tmp_path)
    assert job_table.parse_args(train.job_table_args()).catalog_mapping == daily.catalog_mapping
    none = job_table.parse_args(training_plan({"no_catalog": True}, run_after=RUN_AFTER, run_id="r",
                                              data_root=tmp_path).job_table_args())
    assert none.catalog is None and none.events == tmp_path / Tables.CLEAN_EVENTS  # id-only jobs from the events
    snapshots = job_table.parse_args(daily_plan({}, ds=ds, data_root=tmp_path).job_table_args(tmp_path / "model"))
    assert snapshots.catalog == tmp_path.resolve() / "job_catalog" and snapshots.catalog_mapping is None
    assert DailyPlan.from_xcom(daily_plan(mapped, ds=ds, data_root=tmp_path).to_xcom()).catalog.mapping == \
        daily.catalog_mapping
    with pytest.raises(ConfigError, match="leave catalog_mapping empty"):
        daily_plan({"no_catalog": True, "catalog_mapping": "maps/jobs.json"}, ds=ds, data_root=tmp_path)


def test_history_plan_args_parse_as_intended(tmp_path):
    from orchestration import plans
    from spark_jobs import inference_inputs, ingest_config, job_table, timelines

    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "events.json").write_text('{"format": "csv", "columns": {"uid": "user_id"}}')
    plan = plans.history_plan({"start": "2026-04-01", "end": "2026-10-06", "inputs": ["exports/events.csv",
                               "exports/late"], "mapping": "maps/events.json", "input_format": "csv",
                               "catalog": "exports/events.csv", "catalog_mapping": "maps/attrs.json",
                               "window": 16, "max_quarantine_share": 0.2}, data_root=tmp_path)
    root = tmp_path.resolve()
    ingest = ingest_config.parse_args(plan.ingest_args())
    assert (ingest.start, ingest.end) == (date(2026, 4, 1), date(2026, 10, 6))  # one range run
    assert ingest.inputs == (str(root / "exports" / "events.csv"), str(root / "exports" / "late"))
    assert ingest.now == datetime(2026, 10, 7, tzinfo=timezone.utc) and ingest.max_quarantine_share == 0.2
    assert ingest.config.format == "csv"
    tl = timelines.parse_args(plan.timelines_args())
    assert (tl.start, tl.end) == (date(2026, 4, 1), date(2026, 10, 6))
    jt = job_table.parse_args(plan.job_table_args())
    assert (jt.ds, jt.start, jt.end, jt.vocab) == (date(2026, 10, 6), date(2026, 4, 1), date(2026, 10, 6), None)
    assert jt.catalog_mapping == root / "maps" / "attrs.json" and jt.out == root / "job_side_table" / "ds=2026-10-06"
    inputs = inference_inputs.parse_args(plan.inference_inputs_args())
    assert (inputs.as_of, inputs.window.window, inputs.job_table) == (date(2026, 10, 7), 16, jt.out)
    assert plan.to_xcom()["inputs"] == list(ingest.inputs)


@pytest.mark.parametrize("params, message", [
    ({"end": "2026-10-06"}, "give start and end"), ({"start": "2026-10-06", "end": "2026-10-01"}, "before start"),
    ({"start": "2020-01-01", "end": "2026-10-01"}, "more than"), ({"start": "2026-10-01", "end": "2026-10-02",
                                                                  "inputs": ["../x"]}, "inputs"),
    ({"start": "2026-10-01", "end": "2026-10-02", "inputs": "exports"}, "must be a list"),
    ({"start": "2026-10-01", "end": "2026-10-02", "max_quarantine_share": 2}, "max_quarantine_share"),
    ({"start": "2026-10-01", "end": "2026-10-02", "ds": "2026-10-01"}, "unknown parameter"),
])
def test_history_plan_refuses(tmp_path, params, message):
    from orchestration.plans import history_plan

    with pytest.raises(ConfigError, match=message):
        history_plan(params, data_root=tmp_path)
