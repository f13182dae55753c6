"""``make onboarding``: the walkthrough of docs/onboarding.md, run for real — every command and its output.

A platform's CSV export is made from the synthetic generator and disguised as a real one (:mod:`orchestration.portal_export`):
its own column names, epoch milliseconds, ``bookmark`` / ``delete`` / ``shown`` for save / dismiss / impression,
the job's title, employer and city inline on every event, and a separate ``;``-separated catalogue file with
decimal-comma salaries and ``|``-separated skills. The walkthrough then runs what a data engineer types, each
command in its own process (``python -m orchestration.cli`` is the ``jobtrail`` command): range ingest (a dry run
first), timelines, the job side table from the catalogue export, training examples, training, the promotion gate,
inference inputs and inference for the day after the export, and ``jobtrail evaluate`` on the data root. It
writes ``--doc`` with each command and its output; a failing command stops it (exit code 1, its stderr shown).

    python -m orchestration.onboarding --work data/onboarding [--doc docs/onboarding.md]
    python -m orchestration.onboarding export --synthetic data/synthetic --out data/lake/exports   # the export alone
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jobtrail.errors import JobtrailError
from jobtrail.settings import REPO_ROOT
from jobtrail.tables import Tables
from orchestration.portal_export import portal_export

START = date(2026, 9, 1)
DAYS = 40
END = START + timedelta(days=DAYS - 1)
USERS = 300
SEED = 11
MODEL = "portal_user_embeddings"


@dataclass(frozen=True)
class Step:
    """One command of the walkthrough: a title, why, the words after ``jobtrail`` (or a shell line), the output."""

    title: str
    why: str
    argv: tuple[str, ...]
    shown: str = "json"
    """How the output is shown: ``json`` (the last line, indented), ``head`` (the first lines), ``file`` (argv[1]),
    ``report`` (the last line, then the evaluation report's table of aggregators)."""


def steps(lake: str = "lake") -> list[Step]:
    """The walkthrough, as a data engineer types it from the folder holding ``lake/``."""
    s, e = START.isoformat(), END.isoformat()
    as_of = (END + timedelta(days=1)).isoformat()
    valid_from = (END - timedelta(days=6)).isoformat()
    cutoff = (END - timedelta(days=9)).isoformat()
    side = f"{lake}/{Tables.JOB_SIDE_TABLE}/ds={e}"
    examples = f"{lake}/{Tables.TRAINING_EXAMPLES}/first"
    exports = f"{lake}/exports"
    return [
        Step("Look at the export", "Columns named the portal's way, epoch milliseconds, its own action words, "
             "the job's title, employer and city on every event.", ("head", "-4", f"{exports}/events.csv"), "head"),
        Step("… and at its catalogue", "A separate file: `;`-separated, `|`-separated skills, salaries with a "
             "decimal comma and a currency sign, posting dates without a time.", ("head", "-3", f"{exports}/jobs.csv"),
             "head"),
        Step("Write the events' mapping", "Input column → contract column, the portal's action words → contract "
             "event types, the epoch unit (spark_jobs/ingest_config.py lists every key).",
             ("cat", f"{exports}/events.json"), "file"),
        Step("Dry run", "Reads the whole export and applies every rule; prints per contract column how many rows "
             "have a value and per quarantine reason the count and samples (here: an action the mapping does not "
             "know, a row without a member). Writes nothing.",
             ("ingest", "--start", s, "--end", e, "--input", f"{exports}/events.csv", "--mapping",
              f"{exports}/events.json", "--data-root", lake, "--dry-run")),
        Step("Ingest the whole history in one run", "One commit per table for the range; `ingest_counts` gets a row "
             "per day and the total is checked against the rows read (`input = clean + duplicates + quarantined`); "
             "rows sent twice are counted once, the bad rows land in `quarantine_events` with their reason and raw "
             "row.",
             ("ingest", "--start", s, "--end", e, "--input", f"{exports}/events.csv", "--mapping",
              f"{exports}/events.json", "--data-root", lake)),
        Step("Sessionized timelines", "One timeline per user over the range.",
             ("timelines", "--start", s, "--end", e, "--data-root", lake)),
        Step("Write the catalogue's mapping", "Column names, the list separator, decimal commas and the CSV "
             "dialect (spark_jobs/catalog_input.py). Without a catalogue file, `attributes.json` reads the same "
             "attributes off the events (`\"rows\": \"events\"`), and `--no-catalog` makes id-only jobs.",
             ("cat", f"{exports}/jobs.json"), "file"),
        Step("Job side table", "Every job of the catalogue export and of the events (those missing from the "
             "catalogue keep their id), with a fresh vocabulary.",
             ("job-table", "--ds", e, "--catalog", f"{exports}/jobs.csv", "--catalog-mapping", f"{exports}/jobs.json",
              "--events", f"{lake}/{Tables.CLEAN_EVENTS}", "--start", s, "--end", e, "--out", side,
              "--data-root", lake)),
        Step("Training sequences", f"Per-position sequences of the dense objective; targets from {valid_from} on "
             "are the validation split the gate reads.",
             ("examples", "--start", s, "--end", e, "--valid-from", valid_from, "--job-table", side, "--out", examples,
              "--data-root", lake)),
        Step("Train and register", "A transformer over the unified timeline, logged and registered in the MLflow "
             "store under the data root (`lake/mlflow`); early stopping on the validation Recall@10.",
             ("train", "--model", "transformer", "--examples", examples, "--jobs", side, "--out",
              f"{lake}/models/{MODEL}/first/transformer", "--epochs", "12", "--patience", "4", "--batch-size", "32",
              "--embedding-dim", "32", "--d-model", "32", "--layers", "1", "--learning-rate", "0.002",
              "--registered-name", MODEL,
              "--data-root", lake)),
        Step("The promotion gate", "The first model becomes `champion` only if it beats the popularity ranking "
             "at retrieving the validation days' positives from the daily embedding.",
             ("promote", "--name", MODEL, "--version", "1", "--examples", examples, "--job-table", side,
              "--data-root", lake)),
        Step("Inference inputs for the day after the export", "Each user's latest events before "
             f"{as_of} 00:00 UTC, and the per-user state the daily runs fold each new day into.",
             ("inference-inputs", "--as-of", as_of, "--job-table", side, "--data-root", lake)),
        Step("The first feature-table day", "One embedding per user in the Delta feature table "
             f"`{lake}/user_embeddings`, partition `as_of_date = {as_of}` (version 1 pinned: the gate's verdict "
             "above decides whether `@champion` exists yet).",
             ("infer", "--as-of", as_of, "--model", f"models:/{MODEL}/1", "--job-table", side, "--data-root", lake)),
        Step("Is it any good on this data?", f"The evaluation harness on the data root: trained on targets before "
             f"the cutoff {cutoff}, the daily embedding as of the cutoff ranks every job; Recall@10 of the next "
             "days' positives beside the popularity ranking. The report: `lake/reports/evaluation.md`. On an export "
             "this small (a few hundred users, one seed) the figures are noise; on a platform's full history "
             "the row that matters is each model against popularity.",
             ("evaluate", "--data-root", lake, "--start", s, "--cutoff", cutoff, "--models", "mean,transformer"),
             "report"),
    ]


def run_step(step: Step, cwd: Path, *, in_process: bool = False) -> tuple[str, float]:
    """Run one step in ``cwd``, in its own process unless ``in_process``; its output as the doc shows it, and
    the seconds it took."""
    started = time.perf_counter()
    if step.shown in ("head", "file"):
        path = cwd / step.argv[-1]
        lines = path.read_text().splitlines()
        return "\n".join(lines[: int(step.argv[1].lstrip("-"))] if step.shown == "head" else lines), 0.0
    if in_process:
        code, stdout, stderr = _in_process(step.argv, cwd)
    else:
        done = subprocess.run([sys.executable, "-m", "orchestration.cli", *step.argv], cwd=cwd, capture_output=True,
                              text=True, env=_env())
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    seconds = time.perf_counter() - started
    if code != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise JobtrailError(f"walkthrough step {step.title!r} failed (exit {code}): jobtrail "
                            f"{shlex.join(step.argv)}\n{tail}")
    last = json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])
    shown = json.dumps(_shorten(last), indent=1, ensure_ascii=False)
    if step.shown == "report":
        section = (cwd / last["doc"]).read_text().split("### Aggregators", 1)[1].lstrip().split("\n\n", 2)[1]
        shown += "\n\n" + section.strip()  # the first table after the heading
    return shown, seconds


def _shorten(value: Any, depth: int = 0) -> Any:
    """The output with long lists and deep objects cut, so the doc stays readable."""
    if isinstance(value, dict):
        return {k: _shorten(v, depth + 1) for k, v in value.items()} if depth < 3 else "{…}"
    if isinstance(value, list):
        return [_shorten(v, depth + 1) for v in value[:5]] + (["…"] if len(value) > 5 else [])
    if isinstance(value, float):
        return round(value, 4)
    return value


def _in_process(argv: tuple[str, ...], cwd: Path) -> tuple[int, str, str]:
    """``jobtrail ARGV`` called in this process, in ``cwd`` with the environment :func:`_env` gives a subprocess
    (the test suite's way: one JVM and one TensorFlow for every step). Exit code, stdout and stderr."""
    from orchestration.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in ("JOBTRAIL_DATA_ROOT", "MLFLOW_TRACKING_URI")}
    here = Path.cwd()
    for key in saved:
        os.environ.pop(key, None)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        os.chdir(here)
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    return code, out.getvalue(), err.getvalue()


def _env() -> dict[str, str]:
    """This environment, with the repository importable from the walkthrough's folder."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.pop("JOBTRAIL_DATA_ROOT", None)  # every command names its --data-root
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _command(step: Step) -> str:
    if step.shown in ("head", "file"):
        return shlex.join(step.argv)
    return "jobtrail " + shlex.join(step.argv)


def render(rows: list[tuple[Step, str, float]], facts: dict[str, Any], seconds: float) -> str:
    lines = [
        "# Onboarding: from a platform's export to embeddings and an evaluation\n",
        "Generated by `make onboarding` (`python -m orchestration.onboarding`) — every command below ran, and its output "
        "is what it printed (the last JSON line, long lists cut). The test suite runs the same walkthrough "
        "(`tests/dags/test_onboarding.py`), and the history-load DAG on the same export.\n",
        f"The export: {facts['events']:,} rows of {USERS} job-seekers over {DAYS} days ({START} … {END}) — "
        f"{facts['defects']} of them the defects of a real export (rows sent twice, an unknown action, a row without "
        f"a member) — and {facts['jobs']:,} jobs, made from the synthetic generator (`jobtrail generate --users {USERS} --days "
        f"{DAYS} --start {START} --seed {SEED}`) and disguised as a job portal's export by "
        "`python -m orchestration.onboarding export --synthetic <generated> --out lake/exports`. With your own export, "
        "put it under the data root and start at step 1. Every command runs from the folder holding `lake/`; "
        f"all of them together took {seconds / 60:.1f} minutes on this machine.\n",
        "**With Airflow instead**: trigger `jobtrail_history_load` with `start`, `end`, `inputs` "
        "(`[\"exports/events.csv\"]`), `mapping` (`exports/events.json`), `catalog` (`exports/jobs.csv`) and "
        "`catalog_mapping` (`exports/jobs.json`) — paths relative to the data root — for steps 5, 6, 8 and 12 in one "
        "run; then `jobtrail_training` with the same range and catalogue options, and `jobtrail_daily_embeddings` "
        "for the days after the export (docs/operators.md).\n",
    ]
    for i, (step, output, took) in enumerate(rows, 1):
        lines.append(f"## {i}. {step.title}\n")
        lines.append(step.why + "\n")
        lines.append("```\n$ " + _command(step) + "\n```\n")
        fence = "json" if step.shown in ("json", "file", "report") else ""
        table = ""
        if step.shown == "report":  # the JSON line, then the report's table as the reader sees it
            output, table = output.split("\n\n", 1)
            table = "\nThe report's table of aggregators:\n\n" + table + "\n"
        lines.append(f"```{fence}\n{output}\n```\n" + table + (f"\n*{took:.0f} s*\n" if took else ""))
    lines.append("## What to read next\n")
    lines.append("- `lake/reports/evaluation.md`: the evaluation report (and `evaluation.json`).\n"
                 "- docs/operators.md: the DAGs' forms, reruns, backfills and failures.\n"
                 "- README.md: the contracts, the feature table and how to join it.\n")
    return "\n".join(lines)


def run(work: Path, doc: Path | None, *, log=print, in_process: bool = False) -> dict[str, Any]:
    """The whole walkthrough in ``work`` (replaced); writes ``doc`` when given. Returns the facts, the commands
    and their outputs. ``in_process``: every command called in this process on absolute paths (the test suite's
    way, :func:`_in_process`), instead of one process per command from ``work`` (what the doc shows)."""
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate

    shutil.rmtree(work, ignore_errors=True)
    lake = work / "lake"
    started = time.perf_counter()
    generate(GeneratorConfig(users=USERS, days=DAYS, seed=SEED, start=START), work / "synthetic")
    facts = portal_export(work / "synthetic", lake / "exports")
    rows = []
    walk = steps(str(lake.resolve())) if in_process else steps()
    for step in walk:
        output, took = run_step(step, work, in_process=in_process)
        log(json.dumps({"step": step.title, "seconds": round(took, 1)}))
        rows.append((step, output, took))
    seconds = time.perf_counter() - started
    if doc is not None:
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(render(rows, facts, seconds))
    return {"facts": facts, "outputs": {s.title: o for s, o, _ in rows}, "seconds": round(seconds, 1),
            "lake": str(lake), "commands": [_command(s) for s in walk]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["export"]:
        p = argparse.ArgumentParser(prog="python -m orchestration.onboarding export")
        p.add_argument("--synthetic", type=Path, required=True, help="a generated dataset (jobtrail generate --out)")
        p.add_argument("--out", type=Path, required=True, help="folder for events.csv, jobs.csv and the mappings")
        a = p.parse_args(argv[1:])
        print(json.dumps(portal_export(a.synthetic, a.out)))
        return 0
    p = argparse.ArgumentParser(prog="python -m orchestration.onboarding", description=__doc__.split("\n")[0])
    p.add_argument("--work", type=Path, default=REPO_ROOT / "data" / "onboarding", help="replaced by the run")
    p.add_argument("--doc", type=Path, default=REPO_ROOT / "docs" / "onboarding.md")
    a = p.parse_args(argv)
    try:
        result = run(a.work, a.doc)
    except JobtrailError as e:
        print(f"onboarding: error: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"doc": str(a.doc), "seconds": result["seconds"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
