"""Every interface follows the one declaration of a shared knob (jobtrail/knobs.py): the DAGs' trigger forms, the
plans, each command line, the numpy cutters, the model registry and the evaluation's specs. Changing the window's
default or bounds, or the aggregator list, there is the whole edit; a copy that drifts fails here."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jobtrail.errors import ConfigError
from jobtrail.knobs import AGGREGATORS, BASELINES, LOOKBACK_DAYS, OBJECTIVES, WINDOW

EXAMPLES = ["--start", "2026-10-01", "--end", "2026-10-30", "--valid-from", "2026-10-28", "--out", "ex"]
INPUTS = ["--as-of", "2026-10-31", "--job-table", "side"]
TRAIN = ["--examples", "ex", "--out", "run"]


def window_parsers():
    """Every command line with a --window: (name, its parsed window, a minimal argument list)."""
    from orchestration import demo
    from spark_jobs import examples, inference_inputs

    return [("examples", lambda argv: examples.parse_args(argv).sequence.window, EXAMPLES),
            ("examples --format windows", lambda argv: examples.parse_args(argv).window.window,
             [*EXAMPLES, "--format", "windows"]),
            ("inference-inputs", lambda argv: inference_inputs.parse_args(argv).window.window, INPUTS),
            ("demo", lambda argv: demo.parse_args(argv).window, [])]


def test_the_window_is_declared_once(tmp_path):
    from evaluation.config import BASE_WINDOW
    from jobtrail.sequence_core.chunks import SequenceConfig
    from jobtrail.sequence_core.windows import WindowConfig
    from orchestration.params import history_params, training_params
    from orchestration.plans import history_plan, training_plan
    from spark_jobs.user_state import STATE_EVENTS

    for form in (training_params(), history_params()):
        param = form["window"]
        assert (param.value, param.schema["minimum"], param.schema["maximum"]) == (
            WINDOW.default, WINDOW.minimum, WINDOW.maximum)
    run_after = datetime(2026, 10, 31, 2, tzinfo=timezone.utc)
    assert training_plan({}, run_after=run_after, run_id="r", data_root=tmp_path).window == WINDOW.default
    for wrong in (WINDOW.minimum - 1, WINDOW.maximum + 1):
        with pytest.raises(ConfigError, match="window"):
            training_plan({"window": wrong}, run_after=run_after, run_id="r", data_root=tmp_path)
        with pytest.raises(ConfigError, match="window"):
            history_plan({"start": "2026-10-01", "end": "2026-10-30", "window": wrong}, data_root=tmp_path)
    for name, window, minimal in window_parsers():
        assert window(minimal) == WINDOW.default, name
        assert window([*minimal, "--window", str(WINDOW.maximum)]) == WINDOW.maximum, name
        for wrong in (WINDOW.minimum - 1, WINDOW.maximum + 1):
            with pytest.raises(SystemExit):
                window([*minimal, "--window", str(wrong)])
    for config in (WindowConfig, SequenceConfig):
        assert config().window == WINDOW.default
        assert config(window=WINDOW.minimum).window == WINDOW.minimum
        with pytest.raises(ConfigError, match="window size W"):
            config(window=WINDOW.maximum + 1)
    assert STATE_EVENTS == WINDOW.maximum - 1  # a snapshot can hold the widest window's context
    assert BASE_WINDOW == WINDOW.default


def test_the_lookback_is_declared_once(tmp_path):
    from orchestration.params import daily_params, history_params
    from orchestration.plans import daily_plan, history_plan
    from spark_jobs import inference_inputs
    from spark_jobs.user_state import MAX_LOOKBACK_DAYS

    knob = LOOKBACK_DAYS
    for form in (daily_params(), history_params()):
        param = form["lookback_days"]
        assert (param.value, param.schema["minimum"], param.schema["maximum"]) == (knob.default, knob.minimum,
                                                                                   knob.maximum)
    history = {"start": "2026-10-01", "end": "2026-10-30"}
    assert history_plan(history, data_root=tmp_path).lookback_days == knob.default
    for wrong in (knob.minimum - 1, knob.maximum + 1):
        with pytest.raises(ConfigError, match="lookback_days"):
            history_plan({**history, "lookback_days": wrong}, data_root=tmp_path)
        with pytest.raises(ConfigError, match="lookback_days"):
            daily_plan({"lookback_days": wrong}, ds=datetime(2026, 10, 30).date(), data_root=tmp_path)
        with pytest.raises(SystemExit):
            inference_inputs.parse_args([*INPUTS, "--lookback-days", str(wrong)])
    assert inference_inputs.parse_args(INPUTS).lookback_days == knob.default
    assert inference_inputs.parse_args([*INPUTS, "--lookback-days", str(knob.maximum)]).lookback_days == knob.maximum
    assert MAX_LOOKBACK_DAYS == knob.maximum  # the state keeps users active within the longest lookback


def test_the_model_names_are_declared_once(tmp_path):
    from evaluation.cli import parse_args as evaluate_args
    from evaluation.config import EvalConfig
    from orchestration import demo
    from orchestration.params import training_params
    from orchestration.plans import training_plan
    from tf_models.aggregators import aggregator_classes
    from tf_models.train import parse_args as train_args

    form = training_params()
    assert form["aggregator"].schema["enum"] == list(AGGREGATORS)
    assert set(form["aggregator"].schema["values_display"]) == set(AGGREGATORS)
    assert form["objective"].schema["enum"] == list(OBJECTIVES)
    assert form["baselines"].schema["items"]["enum"] == form["baselines"].schema["examples"] == list(BASELINES)
    assert set(BASELINES) <= set(AGGREGATORS)
    assert list(aggregator_classes()) == list(AGGREGATORS)  # every name builds a layer
    assert EvalConfig.__dataclass_fields__["models"].default == AGGREGATORS  # the evaluation trains every one
    assert evaluate_args(["--models", ",".join(AGGREGATORS)]).models == AGGREGATORS
    run_after = datetime(2026, 10, 31, 2, tzinfo=timezone.utc)
    for name in AGGREGATORS:
        assert train_args(["--model", name, *TRAIN]).model == name
        assert demo.parse_args(["--aggregator", name]).aggregator == name
        assert training_plan({"aggregator": name}, run_after=run_after, run_id="r", data_root=tmp_path).aggregator == name
    for objective in OBJECTIVES:
        assert train_args(["--model", "mean", "--objective", objective, *TRAIN]).objective == objective
    for parse in (lambda: train_args(["--model", "lstm", *TRAIN]), lambda: demo.parse_args(["--aggregator", "lstm"])):
        with pytest.raises(SystemExit):
            parse()
    with pytest.raises(ConfigError, match="aggregator"):
        training_plan({"aggregator": "lstm"}, run_after=run_after, run_id="r", data_root=tmp_path)


def _outside(knob) -> list:
    """Values just outside a knob's bounds (for a number: its minimum itself when the minimum is excluded)."""
    from jobtrail.knobs import IntKnob

    step = 1 if isinstance(knob, IntKnob) else 1e-9
    return [knob.minimum if getattr(knob, "above", False) else knob.minimum - step, knob.maximum + step]


def test_the_training_hyper_parameters_are_declared_once(tmp_path):
    """jobtrail train's options and TrainArgs' defaults come from TRAINING; the training form, its plan, the
    examples' negatives and the evaluation's presets take the same bounds."""
    from evaluation.config import TrainSpec
    from jobtrail.knobs import BATCH_SIZE, EMBEDDING_DIM, EPOCHS, LEARNING_RATE, RANDOM_NEGATIVES, SEED, TRAINING
    from orchestration.params import training_params
    from orchestration.plans import training_plan
    from spark_jobs import examples
    from tf_models.train import TrainArgs, parse_args as train_args

    defaults = train_args(["--model", "mean", *TRAIN])
    for knob in TRAINING:
        assert getattr(defaults, knob.name) == knob.default == TrainArgs.__dataclass_fields__[knob.name].default
        assert getattr(train_args(["--model", "mean", *TRAIN, knob.flag, str(knob.maximum)]), knob.name) == knob.maximum
        for wrong in _outside(knob):
            with pytest.raises(SystemExit):
                train_args(["--model", "mean", *TRAIN, knob.flag, str(wrong)])
            if knob.name in TrainSpec.__dataclass_fields__:
                with pytest.raises(ConfigError, match=knob.title):
                    TrainSpec(**{knob.name: wrong})
    form, run_after = training_params(), datetime(2026, 10, 31, 2, tzinfo=timezone.utc)
    plan = training_plan({}, run_after=run_after, run_id="r", data_root=tmp_path)
    for knob in (EPOCHS, BATCH_SIZE, EMBEDDING_DIM, LEARNING_RATE, SEED, RANDOM_NEGATIVES):
        schema = form[knob.name].schema
        low = schema.get("exclusiveMinimum", schema.get("minimum"))
        assert (form[knob.name].value, low, schema["maximum"]) == (knob.default, knob.minimum, knob.maximum)
        assert ("exclusiveMinimum" in schema) == getattr(knob, "above", False)
        assert getattr(plan, knob.name) == knob.default
        for wrong in _outside(knob):
            with pytest.raises(ConfigError, match=knob.name):
                training_plan({knob.name: wrong}, run_after=run_after, run_id="r", data_root=tmp_path)
    for flag, cut in (("--negatives-per-position", "sequence"), ("--negatives-per-positive", "window")):
        extra = ["--format", "windows"] if cut == "window" else []
        assert examples.parse_args([*EXAMPLES, *extra, flag, str(RANDOM_NEGATIVES.maximum)])
        with pytest.raises(SystemExit):
            examples.parse_args([*EXAMPLES, *extra, flag, str(RANDOM_NEGATIVES.maximum + 1)])
