"""Security, inputs (2/2): every option of every command line (``jobtrail <command>`` and
``spark-submit spark_jobs/<job>.py``) refuses hostile values naming the option. Paths on a command line may
legitimately be anywhere (a data engineer's export folder, ``/tmp``): there only what no path holds (NUL, control
characters, > 4096 characters) is refused, and instead the DAG side is checked: every path a DAG run hands to a
command lies inside the data root."""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

from command_lines import MINIMAL, NOT_PIPELINE_COMMANDS, PARSER_SOURCE, carried, job_modules, kind_of, options, run
from security_cases import DAY, HOSTILE, HOSTILE_DATES, HOSTILE_NUMBERS, MUST_REFUSE_IN_PATHS, RUN_AFTER, RUN_ID
from jobtrail.argtypes import MAX_PATH_CHARS
from jobtrail.errors import ConfigError
from jobtrail.settings import REPO_ROOT
from orchestration.daily import model_steps
from orchestration.plans import daily_plan, training_plan


def test_the_walk_covers_every_command_line():
    sources = {str(p.relative_to(REPO_ROOT)) for pkg in ("jobtrail", "orchestration", "spark_jobs", "tf_models", "evaluation")
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
