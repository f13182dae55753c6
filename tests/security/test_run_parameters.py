"""Security, inputs (1/2): every DAG Param refuses hostile values in the trigger form and again at run time, and no
path a run names leaves the data root.

Fast: no Spark session, no scheduler (Airflow is imported, nothing is started)."""

from __future__ import annotations

import ast
import copy

import pytest

from security_cases import DAY, HOSTILE, HOSTILE_DATES, RUN_AFTER, RUN_ID
from jobtrail.errors import ConfigError
from jobtrail.settings import REPO_ROOT
from orchestration import params as dag_params
from orchestration.plans import DAILY_PARAMS, HISTORY_PARAMS, TRAINING_PARAMS, daily_plan, history_plan, run_day, training_plan


PLAN_KEYS = {"daily_params": DAILY_PARAMS, "training_params": TRAINING_PARAMS, "history_params": HISTORY_PARAMS}
HISTORY_RANGE = {"start": "2026-10-01", "end": "2026-10-30"}
"""The history load's required range, beside the one hostile value tried."""


def dag_param_functions() -> dict[str, str]:
    """DAG file → the ``orchestration.params`` function its ``@dag(params=...)`` calls."""
    found = {}
    for path in sorted((REPO_ROOT / "dags").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        calls = [kw.value for node in ast.walk(tree) if isinstance(node, ast.Call)
                 for kw in node.keywords if kw.arg == "params"]
        imported = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and node.module == "orchestration.params" for a in node.names}
        assert len(calls) == 1, f"{path.name}: one DAG with params=, found {len(calls)}"
        call = calls[0]
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in imported, \
            f"{path.name}: params= must call a function of orchestration.params (typed, validated Params)"
        found[path.name] = call.func.id
    return found


def param_sets() -> dict[str, dict]:
    return {fn: getattr(dag_params, fn)() for fn in sorted(set(dag_param_functions().values()))}


def schema_types(param) -> set[str]:
    kind = param.schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind}


def hostile_for(param) -> dict[str, object]:
    """The hostile values to try on one Param: strings everywhere, dates on dates, numbers on numbers, lists on lists."""
    values: dict[str, object] = dict(HOSTILE)
    if param.schema.get("format") == "date":
        values |= HOSTILE_DATES
    if schema_types(param) & {"integer", "number"}:
        values |= {"NaN": float("nan"), "infinity": float("inf"), "negative": -5, "huge": 10**20, "boolean": True}
    if "array" in schema_types(param):
        values |= {f"[{label}]": [value] for label, value in HOSTILE.items()}
    return values


def test_every_dag_uses_typed_params_that_match_the_run_time_checks():
    functions = dag_param_functions()
    assert set(functions) == {"jobtrail_daily_embeddings.py", "jobtrail_training.py", "jobtrail_history_load.py"}
    for fn, params in param_sets().items():
        assert set(params) == set(PLAN_KEYS[fn]), fn  # every Param is validated again by the plan, and only those
        for name, param in params.items():
            types = schema_types(param)
            if "string" in types:  # free text is never free: a pattern (which also bounds the length) or an enum
                assert param.schema.get("pattern") or param.schema.get("enum"), f"{fn}.{name} has no pattern"
            if "array" in types:
                items = param.schema.get("items", {})
                assert items.get("enum") or items.get("pattern"), f"{fn}.{name}: items have no enum/pattern"


def test_dag_params_refuse_hostile_values_in_the_form_and_at_run_time(tmp_path, reliability):
    """The trigger form (Airflow validates conf against the Params' JSON schemas: UI, REST API, CLI) and the plan
    (what the tasks check again, because conf can bypass the form) both refuse each value, naming the parameter."""
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    form_passes, runtime_passes, tried, names = [], [], 0, 0
    nan_in_form = []
    for fn, params in param_sets().items():
        for name, param in params.items():
            names += 1
            for label, value in hostile_for(param).items():
                tried += 1
                form = ParamsDict(copy.deepcopy(params))
                try:
                    form[name] = value
                except ParamValidationError as e:
                    assert f"param {name}:" in str(e)
                else:
                    (nan_in_form if label == "NaN" else form_passes).append(f"{fn}.{name}={label}")
                try:
                    if name == "ds":
                        run_day(value, data_interval_start=None, run_after=RUN_AFTER)
                    elif fn == "daily_params":
                        daily_plan({name: value}, ds=DAY, data_root=tmp_path)
                    elif fn == "history_params":
                        history_plan({**HISTORY_RANGE, name: value}, data_root=tmp_path)
                    else:
                        training_plan({name: value}, run_after=RUN_AFTER, run_id=RUN_ID, data_root=tmp_path)
                except ConfigError as e:
                    assert name in str(e).split("=")[0] or f"{name}=" in str(e), (name, str(e)[:200])
                    assert len(str(e)) < 1000, f"{name}: the message repeats a {len(str(value))}-character value"
                else:
                    runtime_passes.append(f"{fn}.{name}={label}")
    assert form_passes == [] and runtime_passes == []
    # JSON schema cannot refuse NaN (every comparison with it is false): the plan does, for every number Param.
    assert sorted(nan_in_form) == ["history_params.max_quarantine_share=NaN", "training_params.learning_rate=NaN",
                                   "training_params.min_improvement=NaN"]
    reliability(area="security", case="hostile values in every DAG Param (trigger form and run-time plan)",
                injected=f"{len(HOSTILE)} hostile strings ({', '.join(HOSTILE)}) on all {names} Params of "
                         f"{len(PLAN_KEYS)} DAGs, plus {len(HOSTILE_DATES)} bad dates on dates, NaN/inf/-5/1e20/true "
                         "on numbers, hostile items on lists",
                happened=f"{tried} (Param, value) pairs: every one refused by the Param schema and again by the plan "
                         f"(ConfigError naming the parameter), except NaN on {len(nan_in_form)} number Params, which "
                         "JSON schema cannot refuse and the plan does")


def test_dag_paths_cannot_leave_the_data_root(tmp_path, reliability):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "exports").mkdir(parents=True)
    outside.mkdir()
    (root / "exports" / "escape").symlink_to(outside)  # inside the root by name, outside by target
    tries = {"raw_input": ["../outside/ds={ds}", "exports/../../outside", "/etc/passwd", "exports/escape/ds={ds}",
                           "~/x", "exports\\..\\..\\x", "exports/{ds}/..", "%2e%2e/x"],
             "mapping": ["../m.json", "/etc/passwd", "exports/escape/m.json"],
             "catalog": ["..", "/", "exports/escape"]}
    for name, values in tries.items():
        for value in values:
            with pytest.raises(ConfigError, match=name):
                daily_plan({name: value}, ds=DAY, data_root=root)
    with pytest.raises(ConfigError, match="outside the data root"):
        daily_plan({"raw_input": "exports/escape/ds={ds}"}, ds=DAY, data_root=root)
    with pytest.raises(ConfigError, match="catalog"):
        training_plan({"catalog": "exports/escape"}, run_after=RUN_AFTER, run_id=RUN_ID, data_root=root)
    # Airflow run ids become folder names: a hostile one stays one folder under the data root.
    plan = training_plan({}, run_after=RUN_AFTER, run_id="../../etc/x; rm -rf /", data_root=root)
    assert plan.examples_dir.parent == root / "training_examples" and "/" not in plan.run_dir_key
    reliability(area="security", case="DAG paths: traversal, absolute paths, symlink escape",
                injected=f"{sum(map(len, tries.values()))} paths on raw_input, mapping and catalog (.., /, ~, "
                         "backslashes, a symlink inside the root pointing outside it), a run id '../../etc/x; rm -rf /'",
                happened="every path refused with a ConfigError naming the Param (the symlink: 'resolves to ..., "
                         "outside the data root'); the run id became one folder under training_examples/")
