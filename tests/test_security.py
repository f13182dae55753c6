"""Security (issue 8): every input is validated, commands are argument lists, no secrets in code or images beyond
the documented development defaults, Airflow authentication is on and credentials come from the environment.

1. Inputs. Every ``Param`` of every DAG and every option of every command line (``jobtrail <command>`` and
   ``spark-submit spark_jobs/<job>.py``) is tried with hostile values; each is refused with a message that names
   the parameter or the option. Paths on a command line may legitimately be anywhere (a data engineer's export
   folder, ``/tmp``): there only what no path holds (NUL, control characters, > 4096 characters) is refused, and
   instead the DAG side is checked: every path a DAG run hands to a command lies inside the data root.
2. Commands. No shell anywhere in the code (an AST scan), and a hostile value stays one argument all the way to
   ``exec`` (spark-submit's command line, the local training process, the pod and the container).
3. Secrets. The git-tracked files hold no secret beyond the defaults documented in docker-compose.yml's header
   (tests may hold test passwords); the image copies only tracked sources and ``.dockerignore`` keeps local
   state and ``.env`` files out of the build context.
4. Airflow. Authentication on, connections without inline passwords, the secrets backend configurable.

Fast: no Spark session, no TensorFlow, no scheduler (pyspark and Airflow are imported, nothing is started).

    TF_USE_LEGACY_KERAS=1 pytest tests/test_security.py -q
"""

from __future__ import annotations

import argparse
import ast
import atexit
import contextlib
import copy
import dataclasses
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timezone
from fnmatch import fnmatch
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
import yaml

from jobtrail.settings import REPO_ROOT
from orchestration.embedded import airflow_env

_HOME = Path(tempfile.mkdtemp(prefix="jobtrail-airflow-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
if "airflow" not in sys.modules:  # Airflow reads its configuration on import: an embedded, temporary one
    for _key, _value in airflow_env(_HOME / "home", _HOME / "data").items():
        if _key.startswith(("AIRFLOW", "PYSPARK_", "SPARK_CONF_DIR", "TF_USE_LEGACY_KERAS")) or _key == "PATH":
            os.environ[_key] = _value

from jobtrail.argtypes import MAX_PATH_CHARS  # noqa: E402
from jobtrail.errors import ConfigError  # noqa: E402
from orchestration import params as dag_params  # noqa: E402
from orchestration.daily import model_steps  # noqa: E402
from orchestration.plans import (  # noqa: E402
    DAILY_PARAMS,
    HISTORY_PARAMS,
    TRAINING_PARAMS,
    daily_plan,
    history_plan,
    run_day,
    training_plan,
)

DAY = date(2026, 10, 30)
RUN_AFTER = datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc)
RUN_ID = "manual__2026-11-01T01:30:00+00:00"

HOSTILE = {
    "path traversal": "../../etc",
    "absolute path": "/etc/passwd",
    "shell command": "x; rm -rf /",
    "command substitution": "$(id)",
    "backticks": "`id`",
    "SQL quote": "x' OR '1'='1",
    "very long": "a" * 10_000,
    "NUL byte": "champion\x00",
    "trailing newline": "champion\n",
}
"""Tried on every parameter and option. ``champion\\n`` and ``champion\\x00`` are valid names plus one character."""
HOSTILE_DATES = {"impossible date": "2026-02-30", "day first": "31/10/2026", "no dashes": "20261031",
                 "ISO week": "2026-W44-5", "date and newline": "2026-10-31\n"}
"""Also tried on every date."""
HOSTILE_NUMBERS = {"nan": "nan", "infinity": "inf", "overflow": "1e309", "negative": "-5", "huge": "9" * 20}
"""Also tried on every number."""
MUST_REFUSE_IN_PATHS = ("very long", "NUL byte", "trailing newline")
"""What no path holds; the other hostile values are legal file names on a command line (see the module docstring)."""


# --- 1a. DAG Params and their run-time validation ---------------------------------------------------------------

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


# --- 1b. Command lines ----------------------------------------------------------------------------------------------

MINIMAL = {
    "ingest": ["--ds", "2026-10-30", "--input", "raw"],
    "job-table": ["--ds", "2026-10-30", "--start", "2026-10-01", "--end", "2026-10-30"],
    "timelines": ["--start", "2026-10-01", "--end", "2026-10-30"],
    "examples": ["--start", "2026-10-01", "--end", "2026-10-30", "--valid-from", "2026-10-28", "--out", "ex"],
    "user-state": ["--as-of", "2026-10-31"],
    "inference-inputs": ["--as-of", "2026-10-31", "--job-table", "side"],
    "infer": ["--as-of", "2026-10-31", "--model", "models:/jobtrail_user_embeddings@champion", "--job-table", "side"],
    "monitor": ["--as-of", "2026-10-31"],
    "train": ["--model", "mean", "--examples", "ex", "--out", "run"],
    "promote": ["--name", "jobtrail_user_embeddings", "--version", "3", "--examples", "ex"],
    "evaluate": [],
    "generate": ["--out", "out"],
    "load-movielens": ["--out", "out"],
    "load-amazon-games": ["--out", "out"],
    "spark_jobs/generate.py": ["--users", "10", "--out", "out"],
    "spark_jobs/jars.py": None,  # one flag (--force), nothing to inject; parsing it resolves the jars
}
"""Every command line: a valid argument list each (the hostile value is added to it)."""
PARSER_SOURCE = {"ingest": "spark_jobs/ingest_config.py"}
"""Where a command's parser is defined, when not in the module the command runs (spark_jobs/ingest.py)."""
NOT_PIPELINE_COMMANDS = {
    "orchestration/demo.py": "make demo: a developer's one-shot run on a fresh folder; it calls the commands walked here",
    "orchestration/standalone.py": "make airflow: starts a local UI on 127.0.0.1 for a developer",
    "orchestration/onboarding.py": "make onboarding: regenerates docs/onboarding.md in a fresh folder; it runs the "
                              "commands walked here",
}
"""Argument parsers outside the walk, with the reason (benchmarks/ is not scanned: benchmark drivers)."""
KINDS = {"cli_path": "path", "location": "path", "sql_path": "path", "model_ref": "path", "iso_date": "date",
         "int_range": "number", "number": "number", "_rates": "number", "iso_datetime": "value",
         "version_number": "value", "run_id": "value", "table_name": "value", "names": "value", "_checked": "value"}
"""``jobtrail.argtypes`` type (or type factory) → what it accepts; ``_rates`` is ``jobtrail train --decay-rate``."""


class _Parser(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def job_modules() -> dict[str, str]:
    from orchestration.cli import JOBS

    return {name: module for name, (module, _) in JOBS.items()}


def parse_function(command: str):
    """The function that parses ``command``'s arguments the way the command does."""
    if command in job_modules():
        return importlib.import_module(job_modules()[command]).parse_args
    if command.startswith("spark_jobs/"):
        module = importlib.import_module(command.removesuffix(".py").replace("/", "."))
        return getattr(module, "parse_args", None) or module.main
    from orchestration.cli import build_parser

    return lambda argv: build_parser().parse_args([command, *argv])


def the_parser(command: str) -> argparse.ArgumentParser:
    """``command``'s parser, caught at its ``parse_args`` call (the parsers are built inside functions)."""
    original = argparse.ArgumentParser.parse_args

    def catch(self, args=None, namespace=None):
        raise _Parser(self)

    argparse.ArgumentParser.parse_args = catch
    try:
        if command in ("generate", "load-movielens", "load-amazon-games"):
            from orchestration.cli import build_parser

            subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
            return subparsers.choices[command]
        parse_function(command)([])
    except _Parser as caught:
        return caught.parser
    finally:
        argparse.ArgumentParser.parse_args = original
    raise AssertionError(f"{command}: no parser was built")


def options(command: str) -> dict[str, argparse.Action]:
    return {a.option_strings[-1]: a for a in the_parser(command)._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction)}


def kind_of(action: argparse.Action) -> str:
    """flag, choice, path, date, number or value — or ``unvalidated`` (plain str, Path, int, float)."""
    if action.nargs == 0:
        return "flag"
    if action.choices is not None:
        return "choice"
    if getattr(action.type, "__module__", "") not in ("jobtrail.argtypes", "tf_models.train"):
        return "unvalidated"
    return KINDS.get(getattr(action.type, "__qualname__", "").split(".<locals>")[0], "unvalidated")


def run(command: str, argv: list[str]) -> tuple[str, object, str]:
    """("ok", parsed, "") or ("refused", exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return "ok", parse_function(command)(argv), ""
        except SystemExit as e:
            return "refused", e.code, err.getvalue()


def field_values(parsed: object) -> list[object]:
    if isinstance(parsed, argparse.Namespace):
        return list(vars(parsed).values())
    if dataclasses.is_dataclass(parsed):
        values = [getattr(parsed, f.name) for f in dataclasses.fields(parsed)]
        return [*values, *(nested for v in values for nested in field_values(v))]
    return []


def carried(parsed: object, value: str) -> bool:
    """``value`` reached the parsed arguments unchanged: as a path, or as the root of the default table paths."""
    as_path = str(Path(value))  # Path drops a trailing "/": "x; rm -rf /" is the folder "x; rm -rf "
    values = [x for v in field_values(parsed) for x in (v if isinstance(v, (tuple, list)) else (v,))]  # repeatable
    return any(isinstance(v, (str, Path)) and any(str(v) == w or str(v).startswith(w.rstrip("/") + "/")
                                                  for w in (value, as_path)) for v in values)


def test_the_walk_covers_every_command_line():
    sources = {str(p.relative_to(REPO_ROOT)) for pkg in ("jobtrail", "spark_jobs", "tf_models", "evaluation")
               for p in (REPO_ROOT / pkg).rglob("*.py") if "ArgumentParser(" in p.read_text()}
    walked = {"orchestration/cli.py"} | {c for c in MINIMAL if c.startswith("spark_jobs/")} | {
        PARSER_SOURCE.get(name, module.replace(".", "/") + ".py") for name, module in job_modules().items()}
    assert sources - walked - set(NOT_PIPELINE_COMMANDS) == set(), "a command line the walk does not cover"
    assert set(job_modules()) | {"generate", "load-movielens", "load-amazon-games"} <= set(MINIMAL)
    from orchestration.cli import build_parser

    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) <= set(MINIMAL)


def test_every_option_of_every_command_line_is_validated():
    unvalidated = [f"{c} {o}" for c in MINIMAL for o, a in options(c).items() if kind_of(a) == "unvalidated"]
    assert unvalidated == [], "options taking any string: give them a jobtrail.argtypes type or choices"


def test_command_lines_refuse_hostile_values_naming_the_option(reliability):
    counts = {"value": 0, "path": 0, "flag": 0}
    refused = accepted_paths = 0
    problems = []
    for command, minimal in MINIMAL.items():
        if minimal is None:
            continue
        status, parsed, err = run(command, minimal)
        assert status == "ok", f"{command} {minimal}: {err}"
        for option, action in options(command).items():
            kind = kind_of(action)
            if kind == "flag":
                counts["flag"] += 1
                continue
            counts["path" if kind == "path" else "value"] += 1
            values = dict(HOSTILE) | (HOSTILE_DATES if kind == "date" else {}) | (
                HOSTILE_NUMBERS if kind == "number" else {})
            for label, value in values.items():
                argv = [*minimal, option, value] if option not in minimal else \
                    [*minimal[:minimal.index(option) + 1], value, *minimal[minimal.index(option) + 2:]]
                status, parsed, err = run(command, argv)
                if status == "refused":
                    refused += 1
                    if parsed != 2 or f"argument {option}" not in err:
                        problems.append(f"{command} {option}={label!r}: exit {parsed}, {err[-300:]!r}")
                    if len(err) > 2000 and kind != "choice":  # argparse's own "invalid choice: <value>" repeats it
                        problems.append(f"{command} {option}={label!r}: a {len(err)}-character message")
                elif kind == "path" and label not in MUST_REFUSE_IN_PATHS and carried(parsed, value):
                    accepted_paths += 1  # a legal file name, passed on unchanged as one path (never to a shell)
                else:
                    problems.append(f"{command} {option}={label!r} was accepted")
    assert problems == []
    assert len(HOSTILE["very long"]) > MAX_PATH_CHARS
    commands = sum(1 for m in MINIMAL.values() if m is not None)
    reliability(area="security", case="hostile values in every command-line option (jobtrail and spark-submit jobs)",
                injected=f"{len(HOSTILE)} hostile strings on every option of {commands} command lines "
                         f"({counts['value']} value options, {counts['path']} path options; "
                         f"{counts['flag']} flags take no value), plus {len(HOSTILE_DATES)} bad dates on dates and "
                         f"{len(HOSTILE_NUMBERS)} bad numbers (nan, inf, 1e309, -5, 10^20) on numbers",
                happened=f"{refused} refused with exit code 2 and 'argument --<option>: ...'; {accepted_paths} "
                         "legal file names ('../../etc', '/etc/passwd', '$(id)'...) accepted on path options and "
                         "passed on unchanged as one path (a CLI user's own files may be anywhere; DAG paths are "
                         "checked to stay in the data root); NUL, newline and > 4096 characters refused on paths too")


def test_model_references_and_names_share_one_rule(reliability):
    from jobtrail.rules import MODEL_URI_PATTERN, check_model_name

    good = ["models:/jobtrail_user_embeddings@champion", "models:/a.b-c_1/12"]
    bad = ["models:/../1", "models:/../../etc@champion", "models:/x@champion;rm", "models:/x/0", "models:/x/1 2",
           "models:/x@champion\n", "models:/1x@champion", "models:/" + "x" * 101 + "@champion", "models:x@champion"]
    for uri in good:
        assert re.fullmatch(MODEL_URI_PATTERN, uri)
        assert run("infer", [*MINIMAL["infer"][:3], uri, *MINIMAL["infer"][4:]])[0] == "ok"
    for uri in bad:
        assert not re.fullmatch(MODEL_URI_PATTERN, uri), uri
        status, code, err = run("infer", [*MINIMAL["infer"][:3], uri, *MINIMAL["infer"][4:]])
        assert status == "refused" and "argument --model" in err, uri
    for name in ("../etc", "jobtrail\n", "a/b", "1model", "x" * 101):
        with pytest.raises(ConfigError):
            check_model_name(name)
    # The registry (MLflow: not imported here) compiles the same two patterns, not rules of its own.
    registry = ast.parse((REPO_ROOT / "tf_models" / "registry.py").read_text())
    compiled = {node.targets[0].id: ast.unparse(node.value) for node in registry.body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    assert compiled["MODEL_URI"] == "re.compile(MODEL_URI_PATTERN)"
    assert compiled["MODEL_NAME"] == "re.compile(MODEL_NAME_PATTERN)"
    reliability(area="security", case="model URIs: a name that would become a folder of the model cache",
                injected=f"{len(bad)} models:/ URIs on infer --model (models:/../1, a trailing newline, a shell "
                         "separator, version 0, a 101-character name...)",
                happened="all refused at parse time ('argument --model: ...') and by the one models:/ pattern that "
                         "tf_models.registry compiles too (name: the Params' model-name rule), so no URI names a "
                         "folder outside the model cache")


def test_console_script_hands_arguments_to_the_same_parsers():
    from orchestration.cli import main

    for command in job_modules():
        option = next(o for o, a in options(command).items() if kind_of(a) in ("value", "date", "number"))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_:
            main([command, *(MINIMAL[command] or []), option, "$(id)"])
        assert exit_.value.code == 2 and f"argument {option}" in err.getvalue(), command


# --- 1c. What a DAG run hands to the commands ------------------------------------------------------------------------

def test_every_path_a_dag_run_passes_lies_inside_the_data_root(tmp_path, reliability):
    root = tmp_path / "lake"
    (root / "maps").mkdir(parents=True)
    (root / "maps" / "m.json").write_text('{"columns": {"uid": "user_id"}}')  # ingest reads the mapping when parsing
    daily = daily_plan({"raw_input": "exports/{ds}", "mapping": "maps/m.json", "catalog": "catalogs/jobs"},
                       ds=DAY, data_root=root)
    model_dir = root / "mlflow" / "cache" / "jobtrail_user_embeddings" / "3" / "artifacts" / "saved_model"
    steps = model_steps(daily, model_dir, "jobtrail_user_embeddings", "3", {"window": 32},
                        run_id=f"jobtrail_daily_embeddings/{RUN_ID}")  # what the daily DAG passes
    training = training_plan({"baselines": ["mean", "decay"], "aggregator": "cnn"}, run_after=RUN_AFTER,
                             run_id=RUN_ID, data_root=root)
    argument_lists = {
        "ingest": daily.ingest_args(), "job-table": steps["job_table_args"],
        "inference-inputs": steps["inference_inputs_args"], "infer": steps["infer_args"],
        "monitor": steps["monitor_args"], "timelines": training.timelines_args(),
        "job-table ": training.job_table_args(), "examples": training.examples_args(),
        "train": training.train_args()[1:], "promote": training.promote_args("3")[1:],
        **{f"train {i}": args[1:] for i, args in enumerate(training.baseline_args())},
    }
    checked = 0
    for name, args in argument_lists.items():
        command = name.split()[0]
        kinds = {o: kind_of(a) for o, a in options(command).items()}
        assert run(command, args)[0] == "ok", (name, args)
        for option, value in zip(args, args[1:]):
            if kinds.get(option) == "path" and not value.startswith("models:/"):
                checked += 1
                assert Path(value).resolve().is_relative_to(root.resolve()), f"{name} {option} {value}"
    assert checked >= 25
    reliability(area="security", case="every path a DAG run passes to a command",
                injected=f"the argument lists of a daily run (raw_input, mapping, catalog Params set) and a training "
                         f"run with 2 baselines: {len(argument_lists)} commands",
                happened=f"{checked} path arguments (every option that accepts a path anywhere on a command line), "
                         "all inside the data root; each list parsed by its command's own parser")


# --- 2. Commands are argument lists ----------------------------------------------------------------------------------

SCANNED = ("jobtrail", "spark_jobs", "tf_models", "feature_store", "evaluation", "benchmarks", "dags", "scripts")
SHELL_CALLS = {("os", "system"), ("os", "popen"), ("subprocess", "getoutput"), ("subprocess", "getstatusoutput"),
               ("asyncio", "create_subprocess_shell"), ("os", "execlp"), ("pty", "spawn")}
PROCESS_CALLS = {("subprocess", n) for n in ("run", "Popen", "call", "check_call", "check_output")}


def shell_uses(source: str, filename: str = "<source>") -> list[str]:
    """Places in ``source`` that start a shell or pass a command as one string."""
    tree = ast.parse(source, filename=filename)
    names: dict[str, tuple[str, ...]] = {}  # local name → (module,) or (module, attribute)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name): (a.name,) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {(a.asname or a.name): (node.module, a.name) for a in node.names}

    def target(func: ast.expr) -> tuple[str, str] | None:
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = names.get(func.value.id, ())
            return (module[0], func.attr) if len(module) == 1 else None
        if isinstance(func, ast.Name) and len(names.get(func.id, ())) == 2:
            return names[func.id]  # type: ignore[return-value]
        return None

    def stringy(node: ast.expr) -> bool:
        return (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))) or isinstance(
            node, ast.JoinedStr) or (isinstance(node, ast.BinOp) and (stringy(node.left) or stringy(node.right))) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join")
            and isinstance(node.func.value, (ast.Constant, ast.JoinedStr)))

    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{filename}:{node.lineno}"
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                found.append(f"{where}: shell={ast.unparse(kw.value)}")
        called = target(node.func)
        if called in SHELL_CALLS:
            found.append(f"{where}: {'.'.join(called)}")
        if called in PROCESS_CALLS:
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "args"), None)
            if first is not None and stringy(first):
                found.append(f"{where}: {'.'.join(called)} with a string command")
    return found


def test_the_shell_scanner_finds_every_form():
    probe = """
import os, subprocess as sp
from subprocess import check_output as co, getoutput
os.system("ls")
os.popen("ls")
getoutput("ls")
sp.run("ls -l", check=True)
sp.Popen(f"spark-submit {x}")
co("a " + b)
sp.call(args="ls")
sp.run(" ".join(parts))
sp.run(["ls"], shell=True)
sp.run(cmd, shell=flag)
sp.run(["ls", "-l"], check=True)
sp.Popen(cmd, shell=False)
"""
    found = shell_uses(probe)
    assert len(found) == 10, found
    assert not any(f"<source>:{n}:" in f for f in found for n in (15, 16))


def test_no_shell_anywhere_in_the_code(reliability):
    files = sorted(p for pkg in SCANNED if (REPO_ROOT / pkg).exists() for p in (REPO_ROOT / pkg).rglob("*.py"))
    found = [f for p in files for f in shell_uses(p.read_text(), str(p.relative_to(REPO_ROOT)))]
    assert len(files) > 60
    assert found == []
    process_calls = sum(1 for p in files for node in ast.walk(ast.parse(p.read_text()))
                        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("run", "Popen") and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == "subprocess")
    reliability(area="security", case="no shell: commands are argument lists",
                injected=f"AST scan of {len(files)} Python files ({', '.join(SCANNED)}) for shell=True, os.system, "
                         "os.popen, subprocess.getoutput/getstatusoutput, string commands to subprocess.*",
                happened=f"none found; {process_calls} subprocess.run/Popen calls, all with argument lists "
                         "(the scanner finds each of the 10 forms in a probe)")


ECHO = "import json, sys; print(json.dumps(sys.argv[1:]))"


def test_spark_submit_keeps_a_hostile_value_in_one_argument(tmp_path, monkeypatch, reliability):
    """The data root (infrastructure, from the environment) may hold anything: spaces, ``$( )``, ``;``, backticks."""
    from airflow.providers.apache.spark.hooks import spark_submit as hook_module
    from airflow.sdk import DAG

    from orchestration.spark import spark_submit

    marker = tmp_path / "PWNED"
    root = tmp_path / f"lake $(touch {marker}); touch {marker} `touch {marker}` | x > y"
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": "local[2]"}))
    plan = daily_plan({}, ds=DAY, data_root=root)
    args = json.loads(json.dumps(plan.to_xcom()))["ingest_args"]  # as the XCom hands it to the operator
    with DAG("security_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)):
        op = spark_submit("ingest", application_args=args)
    calls = []

    class Recorder:
        def __init__(self, cmd, **kwargs):
            calls.append((cmd, kwargs))
            self.stdout, self.returncode = iter(()), 0

        def wait(self):
            return 0

    monkeypatch.setattr(hook_module, "subprocess", SimpleNamespace(**{**vars(subprocess), "Popen": Recorder}))
    op._get_hook().submit(op.application)
    (cmd, kwargs), = calls
    assert isinstance(cmd, list) and all(isinstance(a, str) for a in cmd) and not kwargs.get("shell")
    assert cmd[cmd.index("--data-root") + 1] == str(root.resolve())
    assert cmd[cmd.index("--input") + 1] == str(root.resolve() / "raw_events" / f"ds={DAY}")
    echoed = subprocess.run([sys.executable, "-c", ECHO, *cmd[1:]], capture_output=True, text=True, check=True)
    assert json.loads(echoed.stdout) == cmd[1:]  # exec hands every element over unchanged, one argument each
    assert not marker.exists()
    reliability(area="security", case="spark-submit: a hostile value stays one argument",
                injected="data root '<tmp>/lake $(touch PWNED); touch PWNED `touch PWNED` | x > y', through the "
                         "plan's XCom into SparkSubmitOperator; subprocess.Popen recorded, then the same list exec'd",
                happened=f"Popen got a list of {len(cmd)} strings without shell; --data-root and --input are one "
                         "element each; the exec'd process saw the identical list; no PWNED file")


def test_local_training_process_gets_a_list_and_refuses_a_hostile_name(tmp_path, reliability):
    from orchestration.runtime import StepFailedError, jobtrail_command, run_jobtrail

    marker = tmp_path / "PWNED"
    argv = ["promote", "--name", f"m$(touch {marker}); touch {marker}", "--version", "1", "--examples", str(tmp_path)]
    assert jobtrail_command(argv)[3:] == argv
    with pytest.raises(StepFailedError) as failed:
        run_jobtrail(argv, step="promote")
    assert "exited with code 2" in str(failed.value) and "argument --name" in str(failed.value)
    assert not marker.exists()
    reliability(area="security", case="local training launcher: hostile model name",
                injected="jobtrail promote --name 'm$(touch PWNED); touch PWNED' run as the DAG's local launcher does "
                         "(python -m orchestration.cli, a child process)",
                happened="the child got the name as one argument and refused it (exit 2, 'argument --name: ... is "
                         "not a model name'); the task failed with that line; no PWNED file")


@pytest.mark.parametrize("launcher", ["kubernetes", "docker"])
def test_pod_and_container_get_the_argument_list(tmp_path, launcher):
    from airflow.sdk import DAG

    from orchestration.config import LauncherConfig
    from orchestration.launchers import training_task

    argv = ["train", "--model", "mean", "--examples", "/data/ex $(id); rm -rf /", "--out", "/data/m `id`"]
    config = LauncherConfig.from_env({"JOBTRAIL_TRAIN_LAUNCHER": launcher, "JOBTRAIL_TRAIN_GPUS": "0"})
    with DAG("launcher_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
        training_task("train", argv, data_root=Path("/data"), config=config)
    task = dag.get_task("train")
    if launcher == "kubernetes":
        container = task.build_pod_request_obj(dry_run=True).spec.containers[0]
        assert container.command == ["jobtrail"] and container.args == argv
    else:
        assert task.entrypoint == ["jobtrail"] and task.command == argv


# --- 3. Secrets ------------------------------------------------------------------------------------------------------

SECRET_NAME = r"[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|SECRET|FERNET_KEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|TOKEN)"
SECRET_PATTERNS = {
    "private key block": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub/Slack/Google/OpenAI token": re.compile(
        r"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}\b|\bsk-[A-Za-z0-9]{32,}"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "secret assignment": re.compile(
        rf"(?i)\b(?<!\$\{{)(?P<name>{SECRET_NAME})\b[\"']?\s*[:=]\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;#)]+)"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:(?P<value>[^\s/@'\"]+)@"),
}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::?-(?P<default>[^}]*))?\}")
PLACEHOLDER = re.compile(r"^(?:\$\{?[A-Z0-9_]+\}?|None|null|~|true|false|<[^>]*>|\.\.\.|\*+)$", re.I)
"""Values that are placeholders, not secrets: an environment variable, nothing, a <placeholder>, ``...``."""


def documented_defaults() -> dict[str, str]:
    """``NAME  default`` lines of docker-compose.yml's header comment: the only secrets a tracked file may hold."""
    header = "\n".join(line for line in (REPO_ROOT / "docker-compose.yml").read_text().splitlines()
                       if line.startswith("#"))
    return dict(re.findall(r"^#\s+([A-Z_]+)\s{2,}(\S+)$", header, re.M))


def secret_findings(path: str, text: str) -> list[tuple[str, int, str, str]]:
    """(kind, line, name, value) of every secret-looking thing in ``text``.

    An assignment counts when its value is a literal: in Python a quoted string (a bare name there is a variable,
    ``password = os.environ[...]``), elsewhere (YAML, .env, Dockerfile, docs) any value but a placeholder.
    """
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(line):
                groups = match.groupdict()
                raw = groups.get("value") or match.group(0)
                value = raw.strip("\"'")
                if kind == "secret assignment" and (not value or PLACEHOLDER.match(value) or (
                        path.endswith(".py") and raw[0] not in "\"'")):
                    continue
                found.append((kind, number, groups.get("name") or "", value))
    return found


def allowed(path: str, value: str, defaults: dict[str, str]) -> str | None:
    """Why a finding is allowed (a documented development default, or a test's own password), else None."""
    if path.startswith("tests/"):
        return "test"
    interpolation = INTERPOLATION.fullmatch(value) or INTERPOLATION.search(value)
    if interpolation and path == "docker-compose.yml":
        default = interpolation["default"] or ""
        if default == "" or defaults.get(interpolation["name"]) == default:
            return "documented default" if default else "from the environment"
    return None


def repo_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout.split("\n")
    return sorted({f for f in out if f and (REPO_ROOT / f).is_file()})


def test_the_secret_scanner_finds_planted_secrets():
    planted = "\n".join([
        "-----BEGIN RSA " + "PRIVATE KEY-----", "aws_key = '" + "AKIA" + "ABCDEFGHIJKLMNOP'",
        "token: gh" + "p_" + "a" * 36, "DB_PASSWORD=hunter2", 'api_key = "0123456789abcdef0123"',
        "AIRFLOW__API_AUTH__JWT_SECRET: not-documented", "url = 'postgresql://u:s3cret@db/x'",
        "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
    ])
    findings = secret_findings("planted.yml", planted)
    assert {f[0] for f in findings} == set(SECRET_PATTERNS)
    assert {f[1] for f in findings} == set(range(1, 9))  # every planted line is caught
    assert [f[3] for f in secret_findings("x.py", 'password = "hunter2"\nsecret = os.environ["SECRET"]')] == ["hunter2"]
    clean = "\n".join(["password = os.environ['PASSWORD']", "token_buckets: int = 2**17", "secret=${SECRET}",
                       "AIRFLOW__SECRETS__BACKEND: ${AIRFLOW_SECRETS_BACKEND:-}", "password: str | None = None",
                       "url: postgresql://airflow:${POSTGRES_PASSWORD:-}@postgres/airflow"])
    assert [f for f in secret_findings("x.py", clean) if not allowed("docker-compose.yml", f[3], {})] == []
    assert allowed("docker-compose.yml", "${POSTGRES_PASSWORD:-hunter2}", documented_defaults()) is None


def test_no_secrets_in_tracked_files_beyond_documented_defaults(reliability):
    defaults = documented_defaults()
    assert set(defaults) == {"POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY"}
    files = repo_files()
    reasons: dict[str, int] = {}
    leaks = []
    for path in files:
        try:
            text = (REPO_ROOT / path).read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for kind, line, name, value in secret_findings(path, text):
            why = allowed(path, value, defaults)
            if why is None:
                leaks.append(f"{path}:{line}: {kind} {name} {value[:40]!r}")
            else:
                reasons[why] = reasons.get(why, 0) + 1
    assert leaks == []
    assert reasons.get("documented default", 0) >= 3  # the compose file's defaults are seen, and allowed by name
    reliability(area="security", case="no secrets in the repository",
                injected=f"scan of {len(files)} git files (tracked and new) for private keys, AWS keys, GitHub/Slack/"
                         "Google tokens, JWTs, PASSWORD/SECRET/TOKEN/KEY assignments, passwords in URLs",
                happened=f"no leak; allowed: {reasons.get('documented default', 0)} uses of the 3 development defaults "
                         f"named in docker-compose.yml's header, {reasons.get('from the environment', 0)} empty "
                         f"${{VAR:-}} value(s), {reasons.get('test', 0)} test values under tests/ (incl. this file's "
                         "planted samples)")


LOCAL_STATE = [".venv/bin/python", ".cache/jars/delta.jar", "data/demo/raw_events/x.parquet", "mlruns/0/meta.yaml",
               "metastore_db/db.lck", "derby.log", ".git/config", ".env", "prod.env", ".env.local", "conf/app.env",
               "secrets/db_password", "keys/server.pem", "keys/server.key", "jobtrail/__pycache__/cli.cpython-311.pyc",
               "spark-warehouse/t/part-0.parquet", ".pytest_cache/v/x", "airflow.cfg", "data/demo/airflow/airflow.db",
               "mlflow.db"]
IMAGE_SOURCES = ["setup.cfg", "pyproject.toml", "constraints.txt", "README.md", "orchestration/cli.py",
                 "spark_jobs/ingest.py", "tf_models/train.py", "feature_store/table.py", "dags/jobtrail_training.py"]


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, enough for these patterns: a match on the path or on any parent folder excludes it."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.lstrip("!").rstrip("/")
        variants = [body, body.removeprefix("**/")] if body.startswith("**/") else [body]
        hit = any(fnmatch(c, v) or (v != body and fnmatch(c.split("/")[-1], v)) for c in candidates for v in variants)
        if hit:
            ignored = not negate
    return ignored


def test_image_holds_sources_only(reliability):
    text = (REPO_ROOT / "Dockerfile").read_text()
    patterns = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    tracked = set(repo_files())
    copies = [line.split()[1:] for line in text.splitlines() if line.startswith(("COPY", "ADD"))]
    sources = [s for args in copies for s in [a for a in args if not a.startswith("--")][:-1]]
    assert sources and not any(line.startswith("ADD") for line in text.splitlines())  # ADD fetches URLs, unpacks
    for source in sources:  # only what git tracks: never ".", an .env, local data or caches
        assert source not in (".", "./", "*"), source
        assert source in tracked or any(t.startswith(source + "/") for t in tracked), source
    assert not re.search(r"^(ENV|ARG)\s.*(PASSWORD|SECRET|FERNET|TOKEN|_KEY)\b", text, re.M | re.I)
    assert [p for p in LOCAL_STATE if not dockerignored(p, patterns)] == []
    assert [p for p in IMAGE_SOURCES if dockerignored(p, patterns)] == []
    git_ignored = subprocess.run(["git", "check-ignore", ".env", "prod.env", ".env.local"], cwd=REPO_ROOT,
                                 capture_output=True, text=True).stdout.split()
    assert git_ignored == [".env", "prod.env", ".env.local"]  # the compose .env never reaches git either
    reliability(area="security", case="image: sources only, no local state or .env",
                injected=f"Dockerfile's {len(sources)} COPY sources; .dockerignore applied to {len(LOCAL_STATE)} "
                         "local-state paths (.venv, .cache, data, mlruns, metastore_db, derby.log, .git, .env files, "
                         "keys, secrets/, airflow.db) and to the image's sources",
                happened="every COPY source is a git-tracked path (no '.', no .env); all local-state paths excluded "
                         "from the build context, every source kept; no secret ENV/ARG; .env files git-ignored")


# --- 4. Airflow authentication and credentials ---------------------------------------------------------------------

AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer", "airflow-init")


def compose_env() -> dict[str, dict[str, str]]:
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    out = {}
    for name, service in services.items():
        env = service.get("environment", {})
        out[name] = env if isinstance(env, dict) else dict(item.split("=", 1) for item in env)
    return out


def test_airflow_auth_on_and_credentials_from_the_environment(monkeypatch, reliability):
    envs = compose_env()
    connections = 0
    for name in AIRFLOW_SERVICES:
        env = envs[name]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
        assert INTERPOLATION.fullmatch(env["AIRFLOW__API_AUTH__JWT_SECRET"])["name"] == "AIRFLOW_JWT_SECRET"
        assert INTERPOLATION.fullmatch(env["AIRFLOW__SECRETS__BACKEND"])["name"] == "AIRFLOW_SECRETS_BACKEND"
        assert INTERPOLATION.fullmatch(env["AIRFLOW__SECRETS__BACKEND_KWARGS"])["default"] == ""
    for service, env in envs.items():
        for key, value in env.items():
            if not key.startswith("AIRFLOW_CONN_"):
                continue
            connections += 1
            try:
                conn = json.loads(value)
                password = conn.get("password") or urlparse(conn.get("host", "")).password
            except json.JSONDecodeError:
                password = urlparse(value).password
            assert not password or INTERPOLATION.fullmatch(password), f"{service}: {key} has an inline password"
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "AIRFLOW_CONN_" not in dockerfile and "SECRETS__BACKEND" not in dockerfile  # the image sets neither
    # The variable compose sets is the one Airflow reads: empty = no backend; a class path loads that backend.
    from airflow.configuration import conf

    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "")
    assert conf.getimport("secrets", "backend") is None
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "airflow.secrets.local_filesystem.LocalFilesystemBackend")
    assert conf.getimport("secrets", "backend").__name__ == "LocalFilesystemBackend"
    reliability(area="security", case="Airflow: authentication and where credentials come from",
                injected=f"docker-compose.yml's {len(AIRFLOW_SERVICES)} Airflow services and {connections} "
                         "AIRFLOW_CONN_* values; the Dockerfile; AIRFLOW__SECRETS__BACKEND set through Airflow's config",
                happened="simple auth manager with ALL_ADMINS False and the JWT secret from ${AIRFLOW_JWT_SECRET} in "
                         "every service; no connection with an inline password; the image sets no connection; the "
                         "secrets backend comes from ${AIRFLOW_SECRETS_BACKEND} (empty: none; a class path: loaded)")
