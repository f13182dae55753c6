"""The ``jobtrail`` command line: one entry point for every job, with the same arguments as spark-submit.

    jobtrail generate --users 2000 --days 30 --seed 7 --out data/synthetic
    jobtrail generate --engine spark --users 1000000 --out data/synthetic_1m
    jobtrail load-movielens --out data/movielens
    jobtrail load-amazon-games --out data/amazon_games
    jobtrail timelines --start 2026-10-01 --end 2026-10-30      # any Spark job, spark-submit's arguments
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date

import spark_jobs
from jobtrail.argtypes import cli_path, int_range, iso_date, positive_int, seed
from jobtrail.errors import JobtrailError
from spark_jobs import command


def _generate(args: argparse.Namespace) -> dict:
    if args.engine == "spark":
        from spark_jobs import generate as spark_generate

        argv = ["--users", str(args.users), "--days", str(args.days), "--seed", str(args.seed),
                "--start", args.start.isoformat(), "--out", str(args.out)]
        if args.jobs:
            argv += ["--jobs", str(args.jobs)]
        if args.partitions:
            argv += ["--partitions", str(args.partitions)]
        spark_generate.main(argv)
        return json.loads((args.out / "_generator.json").read_text())["counts"]
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate

    cfg = GeneratorConfig(users=args.users, days=args.days, seed=args.seed, start=args.start, jobs=args.jobs)
    return generate(cfg, args.out)


def _load_movielens(args: argparse.Namespace) -> dict:
    from jobtrail.datasets.movielens import load_movielens_100k, write_movielens

    return write_movielens(args.out, load_movielens_100k())


def _load_amazon_games(args: argparse.Namespace) -> dict:
    from jobtrail.datasets.amazon_games import load_amazon_games, write_amazon_games

    return write_amazon_games(args.out, load_amazon_games(args.path))


SPARK_JOBS = {command(module): (f"spark_jobs.{module}", summary) for module, summary in spark_jobs.JOBS.items()}
"""``jobtrail <name> ARGS`` runs ``spark_jobs/<module>.py ARGS`` in-process: the same arguments as spark-submit."""

MODEL_JOBS = {
    "train": ("tf_models.train", "train an aggregator on training examples, export it, log it to MLflow"),
    "promote": ("tf_models.promote", "compare a registered version with the champion; promote it if better"),
    "evaluate": ("evaluation.cli", "train the preset's configurations on a time split, measure, write the report"),
}
"""TensorFlow commands (no Spark): ``jobtrail train ARGS`` runs ``python -m tf_models.train ARGS``."""

JOBS = {**SPARK_JOBS, **MODEL_JOBS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobtrail", description="Job-seeker activity → user embeddings.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write the synthetic job-seeker dataset")
    gen.add_argument("--users", type=int_range(1, 10**9), default=2_000)
    gen.add_argument("--days", type=int_range(1, 3660), default=30)
    gen.add_argument("--seed", type=seed, default=7)
    gen.add_argument("--start", type=iso_date, default=date(2026, 10, 1), help="first day, YYYY-MM-DD")
    gen.add_argument("--jobs", type=positive_int, default=None, help="catalogue size (default: users/2, at least 960)")
    gen.add_argument("--engine", choices=("local", "spark"), default="local",
                     help="local: one process with pyarrow; spark: spark_jobs/generate.py for large N")
    gen.add_argument("--partitions", type=positive_int, default=None, help="Spark tasks (engine spark only)")
    gen.add_argument("--out", type=cli_path, required=True)
    gen.set_defaults(run=_generate)

    ml = sub.add_parser("load-movielens", help="MovieLens-100K (from the recbole==1.2.1 wheel) as events")
    ml.add_argument("--out", type=cli_path, required=True)
    ml.set_defaults(run=_load_movielens)

    amz = sub.add_parser("load-amazon-games", help="the Amazon Games sequences (SASRec) as view events")
    amz.add_argument("--path", type=cli_path, default=None, help="Video.txt (default: ../shared/data/amazon-games)")
    amz.add_argument("--out", type=cli_path, required=True)
    amz.set_defaults(run=_load_amazon_games)

    for name, (module, summary) in JOBS.items():
        sub.add_parser(name, help=f"{summary} ({module.replace('.', '/')}.py; --help for its arguments)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in JOBS:
        import importlib

        return importlib.import_module(JOBS[argv[0]][0]).main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        counts = args.run(args)
    except JobtrailError as e:
        print(f"jobtrail {args.command}: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"command": args.command, "seconds": round(time.perf_counter() - started, 1), "counts": counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
