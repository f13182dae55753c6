"""``jobtrail evaluate``'s arguments: a preset (narrowed by ``--datasets``, ``--models``, ``--seeds``) or a data root's
own clean events (``--data-root`` with its time split), checked into a frozen :class:`EvalArgs`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from evaluation import own_data
from evaluation.config import PRESETS, DatasetSpec, EvalConfig
from jobtrail.argtypes import cli_path, int_range, iso_date, names
from jobtrail.errors import JobtrailError
from jobtrail.settings import REPO_ROOT, Settings
from tf_models.config import AGGREGATOR_NAMES

DOC = REPO_ROOT / "docs" / "evaluation.md"
DESCRIPTION = "train every configuration of a preset on a time split, measure it, write the report"


@dataclass(frozen=True)
class EvalArgs:
    preset: str = "small"
    datasets: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    seeds: int | None = None
    work: Path | None = None
    doc: Path = DOC
    fresh: bool = False
    report_only: bool = False
    monitoring: Path | None = None
    own: DatasetSpec | None = None
    """The data root's dataset (``--data-root``): evaluated instead of a preset."""

    def config(self) -> EvalConfig:
        if self.own is not None:
            return own_data.own_config(self.own, self.models, self.seeds)
        return PRESETS[self.preset].narrowed(
            datasets=list(self.datasets) if self.datasets else None,
            models=list(self.models) if self.models else None, seeds=self.seeds)

    def command(self) -> str:
        """The equivalent ``jobtrail evaluate`` command line (without --work / --doc), for the report."""
        if self.own is not None:
            o = self.own
            parts = ["jobtrail evaluate", "--data-root", o.data_root, "--start", str(o.start), "--cutoff",
                     str(o.cutoff), "--end", str(o.end), "--valid-from", str(o.valid_from), "--horizon-days",
                     str(o.horizon_days), *(["--job-table", o.job_table] if o.job_table else [])]
            if self.models:
                parts += ["--models", ",".join(self.models)]
            return " ".join(parts + (["--seeds", str(self.seeds)] if self.seeds else []))
        parts = ["jobtrail evaluate", "--preset", self.preset]
        for flag, value in (("--datasets", self.datasets), ("--models", self.models)):
            if value:
                parts += [flag, ",".join(value)]
        if self.seeds:
            parts += ["--seeds", str(self.seeds)]
        return " ".join(parts + (["--fresh"] if self.fresh else []))

    @property
    def work_dir(self) -> Path:
        if self.work is None and self.own is not None:
            return own_data.default_paths(Path(self.own.data_root))[0]
        return self.work or Settings.from_env().cache_dir / "evaluation" / self.preset


DATASETS: tuple[str, ...] = (*sorted({d.name for cfg in PRESETS.values() for d in cfg.datasets}), "amazon")
"""What ``--datasets`` may name: the presets' datasets and the Amazon Games benchmark."""


def parse_args(argv: list[str] | None = None) -> EvalArgs:
    p = argparse.ArgumentParser(prog="jobtrail evaluate", description=DESCRIPTION)
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--datasets", type=names(DATASETS, what="dataset"), default=None,
                   help="subset of synthetic,movielens,amazon")
    p.add_argument("--models", type=names(AGGREGATOR_NAMES, what="model"), default=None,
                   help="subset of the aggregators (default: all five)")
    p.add_argument("--seeds", type=int_range(1, 100), default=None, help="number of seeds (default: the preset's, 3)")
    p.add_argument("--work", type=cli_path, default=None, help="cache of prepared data and runs "
                                                           "(default: .cache/evaluation/<preset>)")
    p.add_argument("--doc", type=cli_path, default=None,
                   help="the report to regenerate, plots next to it (default docs/evaluation.md)")
    p.add_argument("--fresh", action="store_true", help="delete the cached work first: everything from scratch")
    p.add_argument("--report-only", action="store_true", help="re-render the report from <work>/results.json")
    p.add_argument("--monitoring", type=cli_path, default=None, help="monitoring Delta table (spark_jobs/monitor.py)")
    own = p.add_argument_group("a platform's own data (instead of a preset)")
    own.add_argument("--data-root", type=cli_path, default=None,
                     help="evaluate <root>/clean_events and its job side table; report <root>/reports/evaluation.md")
    own.add_argument("--start", type=iso_date, default=None, help="first day of events (with --data-root)")
    own.add_argument("--cutoff", type=iso_date, default=None,
                     help="the daily embedding as of this day 00:00 UTC ranks the jobs of the horizon after it")
    own.add_argument("--end", type=iso_date, default=None, help="last day (default: the table's last day)")
    own.add_argument("--valid-from", type=iso_date, default=None,
                     help=f"validation targets from this day (default: {own_data.VALIDATION_DAYS} days before the cutoff)")
    own.add_argument("--horizon-days", type=int_range(1, 365), default=None,
                     help=f"days after the cutoff whose positives are retrieved (default {own_data.HORIZON_DAYS}, "
                          "at most until --end)")
    own.add_argument("--job-table", type=cli_path, default=None,
                     help="job side table folder (default: the latest <root>/job_side_table/ds=D up to --end, "
                          "else id-only jobs from the events)")
    ns = p.parse_args(argv)
    if ns.seeds is not None and ns.seeds < 1:
        p.error("--seeds must be at least 1")
    own_flags = {k: v for k, v in vars(ns).items() if k in OWN_FLAGS and v is not None}
    values = {k: v for k, v in vars(ns).items() if k not in OWN_FLAGS and k != "data_root"}
    try:
        if ns.data_root is not None:
            if ns.datasets or ns.preset != "small":
                p.error("argument --data-root: evaluates that root's data; leave out --preset and --datasets")
            if ns.start is None or ns.cutoff is None:
                p.error("argument --data-root: needs --start and --cutoff (the first day and the start of the horizon)")
            try:
                values["own"] = own_data.own_spec(ns.data_root, **own_flags)
            except JobtrailError as e:
                p.error(f"argument --data-root: {e}")
            values["doc"] = ns.doc or own_data.default_paths(ns.data_root)[1]
        elif own_flags:
            p.error(f"argument --{next(iter(own_flags)).replace('_', '-')}: goes with --data-root")
        else:
            values["doc"] = ns.doc or DOC
        args = EvalArgs(**values)
        args.config()
    except JobtrailError as e:
        p.error(str(e))
    return args


OWN_FLAGS = ("start", "cutoff", "end", "valid_from", "horizon_days", "job_table")
