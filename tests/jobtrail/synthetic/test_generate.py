"""The synthetic dataset has the properties the pipeline and the evaluation rely on (asserted on data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jobtrail.contracts import GROUND_TRUTH, JOB, RAW_EVENT, Tables, with_partition
from jobtrail.errors import ConfigError
from jobtrail.parquet_io import read_table
from jobtrail.synthetic.catalog import build_catalog
from jobtrail.synthetic.config import GeneratorConfig
from jobtrail.synthetic.generate import events_table
from jobtrail.synthetic.occupations import CAREER_CHANGE_PATH, FAMILIES


@pytest.fixture(scope="module")
def events(synthetic_dir) -> pd.DataFrame:
    df = read_table(synthetic_dir / Tables.RAW_EVENTS, with_partition(RAW_EVENT)).to_pandas()
    return df.sort_values(["user_id", "ts", "event_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def truth(synthetic_dir) -> pd.DataFrame:
    return read_table(synthetic_dir / Tables.GROUND_TRUTH, GROUND_TRUTH).to_pandas()


@pytest.fixture(scope="module")
def catalog(synthetic_dir) -> pd.DataFrame:
    return read_table(synthetic_dir / Tables.JOB_CATALOG, with_partition(JOB)).to_pandas()


def test_contract_and_partitions(events):
    assert set(events.event_type) == {"search", "impression", "view", "click", "save", "apply", "dismiss"}
    assert events.event_id.is_unique
    assert (events.ts.dt.tz is not None) and str(events.ts.dt.tz) == "UTC"
    assert (events.ts.dt.date == events.ds).all()
    assert events.loc[events.event_type == "search", "job_id"].isna().all()
    assert events.loc[events.event_type == "search", "query"].str.len().gt(0).all()
    assert events.loc[events.event_type != "search", "job_id"].notna().all()
    assert events.ds.nunique() == 30
    first, last = pd.Timestamp("2026-10-01", tz="UTC"), pd.Timestamp("2026-10-31", tz="UTC")
    assert events.ts.min() >= first and events.ts.max() < last  # sessions running past the window are cut


def test_heavy_tailed_activity(events):
    per_user = events.groupby("user_id").size()
    assert per_user.median() <= 15  # most users: a handful of events a month
    assert 0.003 <= (per_user > 100).mean() <= 0.03  # about 1% over 100
    assert per_user.max() > 20 * per_user.median()


def test_sessions_are_bursts_separated_by_more_than_30_minutes(events):
    gaps = events.groupby("user_id").ts.diff().dropna()
    assert (gaps <= pd.Timedelta(minutes=15)).mean() > 0.6  # within a session: seconds to minutes
    assert ((gaps > pd.Timedelta(minutes=15)) & (gaps <= pd.Timedelta(minutes=30))).sum() == 0
    assert (gaps > pd.Timedelta(minutes=30)).sum() > 1_000  # many users come back


def test_funnel_order(events):
    first = events.groupby(["user_id", "job_id", "event_type"]).ts.min().unstack()
    acted = first[first["apply"].notna() | first["save"].notna()]
    assert len(acted) > 100
    done = acted[["apply", "save"]].min(axis=1)
    assert (acted["impression"] <= acted["click"]).all() and (acted["click"] <= acted["view"]).all()
    assert (acted["view"] <= done).all()
    # every impression on the search channel follows a search of the same user
    searched = events[events.event_type == "search"].groupby("user_id").ts.min()
    shown = events[(events.event_type == "impression") & (events.channel == "search")]
    assert (shown.ts >= shown.user_id.map(searched)).all()


def test_dismisses_are_mostly_off_intent(events, truth, catalog):
    dismissed = events[events.event_type == "dismiss"].merge(truth, on=["user_id", "ds"])
    dismissed = dismissed.merge(catalog[["job_id", "ds", "category"]], on=["job_id", "ds"])
    assert len(dismissed) > 200
    assert (dismissed.category != dismissed.intent).mean() > 0.85
    applied = events[events.event_type == "apply"].merge(truth, on=["user_id", "ds"])
    applied = applied.merge(catalog[["job_id", "ds", "category"]], on=["job_id", "ds"])
    stable = applied[applied.user_kind == "stable"]
    assert (stable.category == stable.intent).mean() > 0.9


def test_user_kinds_and_career_changers(events, truth, catalog):
    kinds = truth.groupby("user_id").user_kind.first().value_counts(normalize=True)
    assert 0.6 < kinds["stable"] < 0.8 and 0.1 < kinds["explorer"] < 0.3 and 0.05 < kinds["career_changer"] < 0.15
    path = [name for name, _ in CAREER_CHANGE_PATH]
    by_user = truth.sort_values("ds").groupby("user_id").intent.agg(lambda s: list(dict.fromkeys(s)))
    canonical = by_user[by_user.apply(lambda p: p == path)].index
    assert len(canonical) >= 50
    # naive title-token counts point at "software" while the current (last) intent is account management
    titles = catalog.drop_duplicates("job_id").set_index("job_id").title
    engaged = events[events.user_id.isin(canonical) & events.event_type.isin(["click", "save", "apply"])]
    words = engaged.job_id.map(titles)
    assert words.str.contains("software|ehr|clinical").sum() > 1.5 * words.str.contains("account").sum()
    last = truth[truth.user_id.isin(canonical)].groupby("user_id").intent.last()
    assert (last == "account_management").all()
    late = engaged.merge(truth, on=["user_id", "ds"]).query("phase == 2 and event_type == 'apply'")
    assert late.job_id.map(titles).str.contains("account|client").mean() > 0.8


def test_catalogue_families_and_job_lifecycle(catalog):
    assert catalog.category.nunique() == len(FAMILIES) >= 20
    first, last = catalog.ds.min(), catalog.ds.max()
    on_first = set(catalog.job_id[catalog.ds == first])
    on_last = set(catalog.job_id[catalog.ds == last])
    assert on_first - on_last, "some jobs expire during the window"
    assert on_last - on_first, "some jobs are posted during the window"
    assert catalog.company.isna().any() and catalog.company.notna().mean() > 0.9  # missing attributes happen
    assert catalog.skills.map(len).ge(2).all()
    priced = catalog.dropna(subset=["salary_min"])
    assert (priced.salary_min < priced.salary_max).all() and catalog.salary_max.isna().any()


def test_events_only_reference_live_jobs(events, catalog):
    shown = events[events.event_type == "impression"][["job_id", "ds"]].drop_duplicates()
    live = shown.merge(catalog[["job_id", "ds"]], on=["job_id", "ds"], how="left", indicator=True)
    assert (live._merge == "both").all()


def test_same_seed_same_rows_any_split_different_seed_differs():
    cfg = GeneratorConfig(users=300, days=10, seed=11)
    catalog = build_catalog(cfg)
    whole = events_table(cfg, catalog, range(300))
    parts = [events_table(cfg, build_catalog(cfg), chunk) for chunk in np.array_split(np.arange(300)[::-1], 4)]
    import pyarrow as pa

    stitched = pa.concat_tables(parts).sort_by([("user_id", "ascending"), ("ts", "ascending"), ("event_id", "ascending")])
    assert stitched.equals(whole.sort_by([("user_id", "ascending"), ("ts", "ascending"), ("event_id", "ascending")]))
    other = events_table(GeneratorConfig(users=300, days=10, seed=12), build_catalog(cfg), range(300))
    assert other.num_rows != whole.num_rows or not other.equals(whole)


def test_bad_config_is_refused():
    with pytest.raises(ConfigError, match="users"):
        GeneratorConfig(users=0)
    with pytest.raises(ConfigError, match="jobs"):
        GeneratorConfig(jobs=3)
