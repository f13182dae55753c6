"""The onboarding walkthrough (docs/onboarding.md) end to end, and the history-load DAG on its export.

One export, made from the synthetic generator and disguised as a job portal's (renamed columns, epoch
milliseconds, ``bookmark``/``delete``/``shown``, attributes inline, a separate ``;``-separated catalogue with
decimal-comma salaries): ``jobtrail_history_load`` runs on it under ``dag.test()`` with real Airflow, Spark and
Delta; the walkthrough runs every command of the doc (called in this process; ``make onboarding`` runs each in
its own), through training, the gate, inference and ``jobtrail evaluate --data-root``.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
import re
import shlex
import shutil
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from jobtrail.tables import Tables
from orchestration import onboarding
from orchestration.portal_export import portal_export

pytestmark = pytest.mark.integration

AS_OF = onboarding.END + timedelta(days=1)


def delta_rows(path: Path, columns: list[str]) -> list[dict]:
    from deltalake import DeltaTable

    return DeltaTable(str(path)).to_pyarrow_table(columns=columns).to_pylist()


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, dict]:
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate

    work = tmp_path_factory.mktemp("portal")
    generate(GeneratorConfig(users=onboarding.USERS, days=onboarding.DAYS, seed=onboarding.SEED,
                             start=onboarding.START), work / "synthetic")
    facts = portal_export(work / "synthetic", work / "exports")
    return work / "exports", facts


def test_the_export_looks_like_a_portal_s(export):
    folder, facts = export
    header, first = (folder / "events.csv").read_text().splitlines()[:2]
    assert header.startswith("event_uuid,member_id,action,posting_id,posting_title,employer,city")
    assert int(first.split(",")[-2]) > 10**12  # epoch milliseconds
    text = (folder / "events.csv").read_text()
    assert ",bookmark," in text and ",delete," in text and ",shown," in text and ",save," not in text
    jobs = (folder / "jobs.csv").read_text().splitlines()
    assert jobs[0].split(";")[0] == "posting_id" and any(" €" in line and "|" in line for line in jobs[1:])
    assert facts["events"] > 4_000 and len(jobs) - 1 == facts["jobs"]


def test_history_load_dag_on_the_walkthrough_export(export, dagbag, root_env, tmp_path, caplog):
    """Range ingest → timelines → side table → inference inputs, in one run; the job attributes read off the
    events themselves (``"rows": "events"``) — the walkthrough below uses the separate catalogue file."""
    from orchestration.embedded import migrate

    folder, facts = export
    root = tmp_path / "lake"
    shutil.copytree(folder, root / "exports")
    migrate(dict(os.environ))
    conf = {"start": onboarding.START.isoformat(), "end": onboarding.END.isoformat(),
            "inputs": ["exports/events.csv"], "mapping": "exports/events.json", "catalog": "exports/events.csv",
            "catalog_mapping": "exports/attributes.json", "window": 16}
    with root_env(root):
        run = dagbag.dags["jobtrail_history_load"].test(logical_date=None, run_conf=conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    counts = delta_rows(root / Tables.INGEST_COUNTS, ["ds", "input_rows", "clean_rows", "duplicate_rows",
                                                      "quarantined_rows"])
    assert len(counts) == onboarding.DAYS  # one row per day of the range
    assert sum(c["input_rows"] for c in counts) == facts["events"]  # every row of the export read once
    for c in counts:
        assert c["input_rows"] == c["clean_rows"] + c["duplicate_rows"] + c["quarantined_rows"]
    clean = delta_rows(root / Tables.CLEAN_EVENTS, ["event_type"])
    assert len(clean) == sum(c["clean_rows"] for c in counts) > 0.99 * facts["events"]
    assert {"save", "dismiss", "impression"} <= {r["event_type"] for r in clean}  # the portal's words mapped
    import pyarrow.parquet as pq

    side = pq.read_table(root / Tables.JOB_SIDE_TABLE / f"ds={onboarding.END}", partitioning=None)
    vocab = json.loads((root / Tables.JOB_SIDE_TABLE / f"ds={onboarding.END}" / "_vocab.json").read_text())
    assert vocab["catalog"]["kind"] == "events"
    titled = [t for t, c in zip(side.column("title_tokens").to_pylist(), side.column("in_catalog").to_pylist()) if c]
    with (folder / "events.csv").open() as f:
        postings = {r["posting_id"] for r in csv.DictReader(f) if r["posting_id"] and r["posting_title"]}
    assert len(titled) == len(postings) and all(any(t) for t in titled)  # titles from the events' attributes
    inputs = [r for r in delta_rows(root / Tables.INFERENCE_INPUTS, ["as_of_date", "user_id"])
              if r["as_of_date"] == AS_OF]
    assert len(inputs) == onboarding.USERS
    assert "Next: trigger jobtrail_training with" in caplog.text
    # the events' attributes into training and embeddings: the evaluation trains on this root's own side table
    from evaluation.cli import parse_args, run as evaluate

    args = parse_args(["--data-root", str(root), "--start", conf["start"], "--cutoff",
                       (onboarding.END - timedelta(days=9)).isoformat(), "--models", "mean"])
    assert args.own.job_table == str((root / Tables.JOB_SIDE_TABLE / f"ds={onboarding.END}").resolve())
    row = evaluate(args)["rows"][0]
    assert "error" not in row and row["retrieval"]["users"] > 0


@pytest.fixture(scope="module")
def walkthrough(spark, tmp_path_factory) -> tuple[dict, Path]:
    """docs/onboarding.md's commands run in a fresh folder — called in this process, on the suite's Spark session
    (``make onboarding`` runs each in its own process) —: the result and the doc written."""
    work = tmp_path_factory.mktemp("walkthrough")
    doc = work / "onboarding.md"
    return onboarding.run(work / "work", doc, log=lambda line: None, in_process=True), doc


def test_the_walkthrough_runs_end_to_end(walkthrough):
    """Every command of docs/onboarding.md, from the export to an evaluation report."""
    result, doc = walkthrough
    lake = Path(result["lake"])
    ingest = json.loads(result["outputs"]["Ingest the whole history in one run"])
    assert (ingest["duplicate_rows"], ingest["quarantined_rows"]) == (3, 3)  # the export's defects, counted
    assert ingest["quarantined_by_reason"]["unknown_event_type"] == 2
    assert ingest["input_rows"] == result["facts"]["events"]
    text = doc.read_text()
    assert len(result["commands"]) == len(onboarding.steps())
    for command in result["commands"]:
        assert command in text  # the doc shows every command that ran
    features = [r for r in delta_rows(lake / Tables.FEATURE_TABLE, ["as_of_date", "is_fallback"])
                if r["as_of_date"] == AS_OF]
    assert len(features) == onboarding.USERS and not any(r["is_fallback"] for r in features)
    evaluation = json.loads((lake / "reports" / "evaluation.json").read_text())["datasets"]["own"]
    assert set(evaluation["models"]) == {"mean", "transformer"}
    assert evaluation["popularity"]["recall@10"] is not None  # the popularity row beside the models
    assert "popularity (no model)" in (lake / "reports" / "evaluation.md").read_text()
    assert not (doc.parent / "work" / "mlruns").exists()  # the MLflow store lives under the data root
    assert (lake / "mlflow").is_dir()


# --- the README's snippets, on the walkthrough's lake ---------------------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"
SHELL_ONLY = ("source ", "export ", "docker compose ")
"""README command lines that configure the shell or need a Docker engine (tests/dags/test_compose.py checks
the compose file)."""


def readme_blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(), flags=re.M | re.S)


def command_lines(block: str) -> list[str]:
    """A bash block's commands: continuations joined, comments dropped, ``[optional]`` flags kept."""
    lines = (line.split(" #")[0].strip() for line in block.replace("\\\n", " ").splitlines())
    return [line.replace("[", "").replace("]", "") for line in lines if line and not line.startswith("#")]


def parse_function(words: list[str]):
    """The parser ``jobtrail <command>`` or ``spark-submit spark_jobs/<job>.py`` runs, and the arguments."""
    from orchestration.cli import JOBS, build_parser

    if words[0] == "spark-submit":
        return importlib.import_module(words[1].removesuffix(".py").replace("/", ".")).parse_args, words[2:]
    assert words[0] == "jobtrail", words
    if words[1] in JOBS:
        return importlib.import_module(JOBS[words[1]][0]).parse_args, words[2:]
    return (lambda argv: build_parser().parse_args([words[1], *argv])), words[2:]


def test_the_readme_s_snippets_run_on_the_walkthrough_lake(walkthrough, spark, tmp_path, monkeypatch, capsys):
    """Every README command line through its job's own parser (the pipeline they spell out ran above, as the
    walkthrough), and every Python and SQL block executed for real on the walkthrough's lake, laid out as the
    README's ``data/``."""
    result, _ = walkthrough
    lake = Path(result["lake"])
    monkeypatch.chdir(tmp_path)  # the README's folder: data/ is the data root
    (tmp_path / "data").symlink_to(lake)
    monkeypatch.setenv("JOBTRAIL_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    w32 = lake / "examples" / "w32"  # the README's examples folder: the walkthrough's, and its side table in it
    w32.mkdir(parents=True, exist_ok=True)
    (w32 / "sequences").symlink_to(lake / Tables.TRAINING_EXAMPLES / "first" / "sequences")
    (w32 / "job_side_table").symlink_to(lake / Tables.JOB_SIDE_TABLE / f"ds={onboarding.END}")
    for readme_name, walkthrough_file in {"mapping.json": "events.json", "jobs.json": "jobs.json",
                                          "exports/jobs.csv": "jobs.csv"}.items():
        (tmp_path / readme_name).parent.mkdir(exist_ok=True)
        shutil.copy(lake / "exports" / walkthrough_file, tmp_path / readme_name)

    makefile = (README.parent / "Makefile").read_text()
    parsed = 0
    for line in (line for block in readme_blocks("bash") for line in command_lines(block)):
        if line.startswith(SHELL_ONLY):
            continue
        words = shlex.split(line)
        if words[0] == "make":
            assert re.search(rf"^{words[1]}:", makefile, flags=re.M), line
            continue
        parse, argv = parse_function(words)
        fragment = argv[-1:] == ["..."]  # "--model decay --decay-rate ... ...": the flags shown must exist
        try:
            parse(argv[:-1] if fragment else argv)
        except SystemExit:
            error = capsys.readouterr().err
            assert fragment and "the following arguments are required" in error, f"{line}\n{error}"
        parsed += 1
    assert parsed >= 25

    # the Python blocks, in one namespace with a Spark session and label rows; the walkthrough's model name
    from mlflow import MlflowClient

    from tf_models.registry import tracking_uri

    MlflowClient(tracking_uri()).set_registered_model_alias(onboarding.MODEL, "champion", "1")
    users = [r["user_id"] for r in delta_rows(lake / Tables.FEATURE_TABLE, ["user_id"])][:20]
    label_ts = datetime.combine(AS_OF, time(12), tzinfo=timezone.utc)
    labels = spark.createDataFrame([(i, u, label_ts, i % 2) for i, u in enumerate(users)],
                                   "label_id int, user_id string, label_ts timestamp, y int")
    namespace = {"spark": spark, "labels": labels}
    for block in readme_blocks("python"):
        exec(block.replace("jobtrail_transformer", onboarding.MODEL), namespace)
    assert namespace["model"].version == "1" and namespace["clean"].shape[0] > 0
    assert namespace["jobs"].num_rows > 1 and namespace["sequences"].num_rows > 0
    joined = namespace["training"].collect()
    assert len(joined) == len(users) and all(r["user_embedding"] is not None for r in joined)

    (sql,) = readme_blocks("sql")
    labels.createOrReplaceTempView("labels")
    sql = (sql.replace("delta.`data/", f"delta.`{lake}/").replace("jobtrail_transformer", onboarding.MODEL)
           .replace("model_version = '3'", "model_version = '1'"))
    rows = spark.sql(sql).collect()
    assert len(rows) == len(users) and all(r["user_embedding"] is not None for r in rows)
