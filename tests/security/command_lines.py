"""The walk over every command line: each parser, its options and what each accepts (path, date, number)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import io
from pathlib import Path


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
PARSER_SOURCE = {"ingest": "spark_jobs/ingest_config.py", "evaluate": "evaluation/eval_args.py"}
"""Where a command's parser is defined, when not in the module the command runs (spark_jobs/ingest.py,
evaluation/cli.py)."""
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
