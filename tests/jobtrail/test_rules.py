"""Run-time validation of DAG parameters: dates, names, and paths that must stay inside the data root."""

from __future__ import annotations

import re
from datetime import date

import pytest

from jobtrail.errors import ConfigError
from jobtrail.rules import (
    DATE_PATTERN,
    RELATIVE_PATH_PATTERN,
    check_alias,
    check_bool,
    check_int,
    check_label,
    check_model_name,
    inside_root,
    parse_date,
    run_key,
)


@pytest.mark.parametrize("text, expected", [("2026-10-31", date(2026, 10, 31)), ("2024-02-29", date(2024, 2, 29))])
def test_dates(text, expected):
    assert parse_date(text, "ds") == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "26-10-31", "2026-10-31T00:00", "1999-12-31",
                                  "2026-10-31\n", "", None, 20261031, "2026-10-31; rm -rf /"])
def test_bad_dates_name_the_parameter(text):
    with pytest.raises(ConfigError, match="ds="):
        parse_date(text, "ds")


def test_date_pattern_is_the_form_rule():
    assert re.match(DATE_PATTERN, "2026-10-31") and not re.match(DATE_PATTERN, "2026-1-31")


@pytest.mark.parametrize("name", ["jobtrail_user_embeddings", "a", "Model-2.1"])
def test_model_names(name):
    assert check_model_name(name) == name


@pytest.mark.parametrize("name", ["", "1abc", "../x", "a/b", "a b", "x" * 101, "models:/x@champion", None, 3,
                                  "jobtrail\n", "jobtrail\x00"])
def test_bad_model_names(name):
    with pytest.raises(ConfigError, match="model_name"):
        check_model_name(name)


def test_alias_and_ints():
    assert check_alias("champion") == "champion"
    for bad in ("champion@x", "champion\n", "1st"):
        with pytest.raises(ConfigError, match="model_alias"):
            check_alias(bad)
    assert check_bool(False, "incremental") is False
    for bad in ("false", 0, None, "x; rm -rf /"):
        with pytest.raises(ConfigError, match="incremental"):
            check_bool(bad, "incremental")
    assert check_label("dev-1") == "dev-1"
    for bad in ("../1", ".hidden", "a/b", "1\n"):
        with pytest.raises(ConfigError, match="model_version"):
            check_label(bad)
    with pytest.raises(ConfigError, match="window"):
        check_int(True, "window", minimum=8, maximum=256)
    with pytest.raises(ConfigError, match="8..256"):
        check_int(7, "window", minimum=8, maximum=256)


def test_inside_root_resolves_relative_paths(tmp_path):
    assert inside_root(tmp_path, "raw_events/ds=2026-10-31", "raw_input") == tmp_path.resolve() / "raw_events/ds=2026-10-31"


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "a/..", "..", "/etc/passwd", "a\\b", "~/x",
                                      "a b", "$(id)", "a;b", "", "raw_events\n", "raw\x00", "a" * 256])
def test_inside_root_refuses_escapes_and_odd_characters(tmp_path, relative):
    with pytest.raises(ConfigError, match="raw_input"):
        inside_root(tmp_path, relative, "raw_input")
    assert not re.search(RELATIVE_PATH_PATTERN, relative)  # the trigger form (jsonschema: re.search) refuses it too


def test_inside_root_refuses_a_symlink_out_of_the_root(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside the data root"):
        inside_root(root, "link/events", "raw_input")


def test_run_key_is_folder_safe_and_stable():
    key = run_key("manual__2026-10-31T00:00:00+00:00")
    assert key == "manual__2026-10-31T00_00_00_00_00" == run_key("manual__2026-10-31T00:00:00+00:00")
    assert "/" not in run_key("../../etc/passwd") and not run_key("../x").startswith(".")
