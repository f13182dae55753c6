"""``jobtrail evaluate --data-root``: the dataset a data root defines, and the flags that go with it.

The whole run (Spark preparation, training, the report) is exercised on the walkthrough's data root by
tests/dags/test_onboarding.py; here, what the command line makes of a root, without Spark or TensorFlow training.
"""

from __future__ import annotations

from datetime import date

import pytest

from evaluation import own_data
from evaluation.cli import parse_args
from jobtrail.tables import Tables

START = date(2026, 10, 1)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate
    from orchestration.demo import load_history

    root = tmp_path_factory.mktemp("own")
    generate(GeneratorConfig(users=40, days=20, seed=2, start=START), root)
    load_history(root, date(2026, 10, 20))
    for ds in ("2026-10-12", "2026-10-18", "2026-10-25"):  # side tables of several days; one after the range
        (root / Tables.JOB_SIDE_TABLE / f"ds={ds}").mkdir(parents=True)
        (root / Tables.JOB_SIDE_TABLE / f"ds={ds}" / "part-0.parquet").write_bytes(b"")
    return root


def test_the_split_defaults_follow_the_table(root):
    args = parse_args(["--data-root", str(root), "--start", "2026-10-01", "--cutoff", "2026-10-14"])
    spec = args.own
    assert (spec.kind, spec.end, spec.valid_from, spec.horizon_days) == ("lake", date(2026, 10, 20),
                                                                         date(2026, 10, 7), 7)  # cut to the data
    assert spec.job_table == str((root / Tables.JOB_SIDE_TABLE / "ds=2026-10-18").resolve())  # latest up to the end
    assert spec.source_version == 0  # the Delta version read: a later ingest prepares the data again
    assert args.doc == root / "reports" / "evaluation.md" and args.work_dir == root / "evaluation_work"
    cfg = args.config()
    assert cfg.models == own_data.MODELS and cfg.seeds == (1,) and cfg.amazon is None
    assert [v.name for v in cfg.variants()] == ["mean-w32", "transformer-w32"]  # no ablations on own data
    assert "--data-root" in args.command() and "--preset" not in args.command()
    narrowed = parse_args(["--data-root", str(root), "--start", "2026-10-02", "--cutoff", "2026-10-10", "--end",
                           "2026-10-19", "--models", "cnn", "--seeds", "2", "--doc", str(root / "x.md")])
    assert narrowed.config().models == ("cnn",) and narrowed.config().seeds == (1, 2)
    assert narrowed.doc == root / "x.md" and narrowed.own.horizon_days == 10


@pytest.mark.parametrize("argv, message", [
    (["--start", "2026-10-01"], "argument --start: goes with --data-root"),
    (["--data-root", "{root}", "--start", "2026-10-01"], "needs --start and --cutoff"),
    (["--data-root", "{root}", "--start", "2026-09-01", "--cutoff", "2026-10-10"], "holds 2026-10-01 .. 2026-10-20"),
    (["--data-root", "{root}", "--start", "2026-10-10", "--cutoff", "2026-10-10"], "need start < cutoff"),
    (["--data-root", "{root}", "--start", "2026-10-01", "--cutoff", "2026-10-10", "--preset", "large"],
     "leave out --preset"),
    (["--data-root", "{root}/nothing", "--start", "2026-10-01", "--cutoff", "2026-10-10"], "ingest the export first"),
])
def test_refused_with_a_reason(root, capsys, argv, message):
    with pytest.raises(SystemExit):
        parse_args([a.replace("{root}", str(root)) for a in argv])
    assert message in capsys.readouterr().err


@pytest.mark.integration
def test_a_root_without_a_catalogue_trains_on_id_only_jobs_and_reports(tmp_path):
    """No side table under the root: id-only jobs from the events (``job-table --no-catalog``), trained and
    embedded, reported beside the popularity ranking."""
    import json

    from evaluation.cli import run
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate
    from orchestration.demo import load_history

    root = tmp_path / "lake"
    generate(GeneratorConfig(users=120, days=24, seed=4, start=START), root)
    load_history(root, date(2026, 10, 24))
    args = parse_args(["--data-root", str(root), "--start", "2026-10-01", "--cutoff", "2026-10-17", "--models",
                       "mean"])
    assert args.own.job_table is None
    results = run(args)
    side = json.loads((args.work_dir / "data" / f"own-{args.own.key()}" / "job_side_table" / "_vocab.json").read_text())
    assert side["catalog"]["kind"] == "none" and side["rows"]["catalog"] == 0  # every job from the events, ids only
    row = results["rows"][0]
    assert "error" not in row and row["retrieval"]["users"] > 0
    report = json.loads((root / "reports" / "evaluation.json").read_text())["datasets"]["own"]
    assert report["models"]["mean"]["recall@10"] is not None and report["popularity"]["recall@10"] is not None
