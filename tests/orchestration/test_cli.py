"""The jobtrail CLI: generate writes the layout and the manifest; errors are reported, not raised."""

from __future__ import annotations

import json

import pytest

from jobtrail.parquet_io import read_table
from jobtrail.tables import Tables
from orchestration.cli import main


def test_generate_writes_tables_and_manifest(tmp_path, capsys):
    out = tmp_path / "synthetic"
    assert main(["generate", "--users", "120", "--days", "5", "--seed", "3", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    manifest = json.loads((out / "_generator.json").read_text())
    assert manifest["config"] == {"users": 120, "days": 5, "seed": 3, "start": "2026-10-01", "jobs": None}
    assert report["counts"] == manifest["counts"]
    for table in (Tables.RAW_EVENTS, Tables.JOB_CATALOG, Tables.GROUND_TRUTH):
        assert read_table(out / table).num_rows == manifest["counts"][table]
    assert sorted(p.name for p in (out / Tables.RAW_EVENTS).iterdir()) == [f"ds=2026-10-0{d}" for d in range(1, 6)]


def test_rerun_replaces_instead_of_appending(tmp_path, capsys):
    args = ["generate", "--users", "60", "--days", "3", "--out", str(tmp_path)]
    main(args)
    first = read_table(tmp_path / Tables.RAW_EVENTS).num_rows
    main(args)
    assert read_table(tmp_path / Tables.RAW_EVENTS).num_rows == first


def test_invalid_config_is_a_clear_error(tmp_path, capsys):
    assert main(["generate", "--jobs", "5", "--out", str(tmp_path)]) == 2  # the configuration's own rule
    assert "jobs must be at least" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # an argument out of range is a usage error that names it
        main(["generate", "--users", "0", "--out", str(tmp_path)])
    assert exit_.value.code == 2 and "argument --users: 0 is outside 1..1000000000" in capsys.readouterr().err
