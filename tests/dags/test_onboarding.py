"""The onboarding walkthrough (docs/onboarding.md) end to end, and the history-load DAG on its export.

One export, made from the synthetic generator and disguised as a job portal's (renamed columns, epoch
milliseconds, ``bookmark``/``delete``/``shown``, attributes inline, a separate ``;``-separated catalogue with
decimal-comma salaries): ``jobtrail_history_load`` runs on it under ``dag.test()`` with real Airflow, Spark and
Delta; the walkthrough runs every command of the doc in its own process, through training, the gate, inference
and ``jobtrail evaluate --data-root``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from jobtrail import onboarding
from jobtrail.contracts import Tables

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
    facts = onboarding.portal_export(work / "synthetic", work / "exports")
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
    from jobtrail.orchestration.embedded import migrate

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


def test_the_walkthrough_runs_end_to_end(tmp_path):
    """Every command of docs/onboarding.md in its own process, from the export to an evaluation report."""
    doc = tmp_path / "onboarding.md"
    result = onboarding.run(tmp_path / "work", doc, log=lambda line: None)
    lake = Path(result["lake"])
    ingest = json.loads(result["outputs"]["Ingest the whole history in one run"])
    assert (ingest["duplicate_rows"], ingest["quarantined_rows"]) == (3, 3)  # the export's defects, counted
    assert ingest["quarantined_by_reason"]["unknown_event_type"] == 2
    assert ingest["input_rows"] == result["facts"]["events"]
    text = doc.read_text()
    for step in onboarding.steps():
        assert onboarding._command(step) in text  # the doc shows every command that ran
    features = [r for r in delta_rows(lake / Tables.FEATURE_TABLE, ["as_of_date", "is_fallback"])
                if r["as_of_date"] == AS_OF]
    assert len(features) == onboarding.USERS and not any(r["is_fallback"] for r in features)
    evaluation = json.loads((lake / "reports" / "evaluation.json").read_text())["datasets"]["own"]
    assert set(evaluation["models"]) == {"mean", "transformer"}
    assert evaluation["popularity"]["recall@10"] is not None  # the popularity row beside the models
    assert "popularity (no model)" in (lake / "reports" / "evaluation.md").read_text()
    assert not (tmp_path / "work" / "mlruns").exists()  # the MLflow store lives under the data root
    assert (lake / "mlflow").is_dir()
