"""Promotion gate: score a registered version and the current champion on the same validation data.

    jobtrail promote --name jobtrail_transformer --version 3 --examples data/examples/w32 [--alias champion]

Both models score the validation split of ``--examples`` through their SavedModels. On training sequences
(``spark_jobs/examples.py --format sequences``, the default) that is the task the daily embedding serves: each
validation user's embedding as of ``valid_from`` ranks the whole catalogue and the metric is Recall@10 of the
positives of the horizon after it (:func:`tf_models.scoring.retrieve_sequences`); on one-target windows
(``--format windows``) it is the proxy AUC (:func:`tf_models.scoring.score_examples`).

Before any comparison the candidate must beat every baseline on the same validation data: a model-free one —
the popularity ranking of the training targets on sequences (:func:`tf_models.scoring.popularity_sequences`),
chance (AUC 0.5) on windows — and each ``--baseline-model`` (the training DAG passes the mean/decay baselines it
trained beside the candidate), so not even a first model is promoted when it ranks worse than "everyone gets
the most popular jobs" or than a per-action average. The alias then moves to the candidate when its metric
beats the champion's by more than ``--min-improvement`` (or there is no champion yet). The comparison is logged to the candidate's MLflow
run (metrics ``gate_*``) and as a tag on the model version; the JSON printed last is
``{"promoted", "reason", "metric", "candidate": {...}, "champion": {...} | null, "baseline": {the highest floor},
"baselines": [...]}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobtrail.argtypes import alias, cli_path, model_name, number, version_number
from jobtrail.command_main import command_main
import tf_models  # noqa: F401

CHAMPION = "champion"
"""``tf_models.registry.CHAMPION``; MLflow and TensorFlow are imported by :func:`run` and :func:`evaluate` only, so
parsing the command line (``--help``, a refused argument) takes no time."""


@dataclass(frozen=True)
class PromoteArgs:
    name: str
    version: str
    examples: Path
    alias: str = CHAMPION
    job_table: Path | None = None
    min_improvement: float = 0.0
    baseline_models: tuple[Path, ...] = ()
    data_root: Path | None = None

    def settings(self):
        """The infrastructure settings with this run's ``--data-root`` (its MLflow store)."""
        from jobtrail.settings import Settings

        return Settings.from_env().with_data_root(self.data_root)


def parse_args(argv: list[str] | None = None) -> PromoteArgs:
    p = argparse.ArgumentParser(prog="jobtrail promote", description=__doc__.split("\n")[0])
    p.add_argument("--name", type=model_name, required=True, help="registered model name")
    p.add_argument("--version", type=version_number, required=True, help="the candidate version (a number)")
    p.add_argument("--examples", type=cli_path, required=True, help="examples folder; its validation split is used")
    p.add_argument("--alias", type=alias, default=CHAMPION)
    p.add_argument("--job-table", type=cli_path, default=None, help="default: <examples>/job_side_table")
    p.add_argument("--data-root", type=cli_path, default=None,
                   help="data root whose MLflow store (<root>/mlflow) holds the model (default: $JOBTRAIL_DATA_ROOT "
                        "or the repository's data/; MLFLOW_TRACKING_URI overrides the store)")
    p.add_argument("--min-improvement", type=number(0, 1), default=0.0, help="margin the candidate's gate metric must exceed")
    p.add_argument("--baseline-model", dest="baseline_models", type=cli_path, action="append", default=[],
                   help="a SavedModel trained beside the candidate (e.g. the mean/decay baselines) that it must "
                        "beat too; repeatable")
    ns = p.parse_args(argv)
    return PromoteArgs(**{**vars(ns), "baseline_models": tuple(ns.baseline_models)})


def gate_metric(examples: Path) -> str:
    """The metric the gate compares on ``examples``: Recall@10 on sequences, the proxy AUC on windows."""
    from tf_models.sequence_data import has_sequences

    return "recall@10" if has_sequences(examples) else "auc"


def evaluate(uri: str, args: PromoteArgs) -> dict[str, Any]:
    from tf_models.registry import resolve_model

    model = resolve_model(uri, args.settings())
    return {"version": model.version, **score_model(model.path, args)}


def score_model(path: Path, args: PromoteArgs) -> dict[str, Any]:
    """The gate's figures of one SavedModel on the validation split of ``args.examples``."""
    from tf_models.metrics import ranking_metrics
    from tf_models.scoring import retrieve_sequences, score_examples

    if gate_metric(args.examples) == "recall@10":
        return retrieve_sequences(path, args.examples, job_table=args.job_table)
    labels, logits, weights, kinds = score_examples(path, args.examples, split="validation", job_table=args.job_table)
    return ranking_metrics(labels, logits, weights, kinds)


def baselines(args: PromoteArgs, metric: str) -> list[dict[str, Any]]:
    """The floors on the gate's validation data: model-free (popularity's Recall@10 on sequences, chance's AUC on
    windows) and every ``--baseline-model``, named by the aggregator it was trained with."""
    from tf_models.signatures import read_metadata

    if metric == "auc":
        floors = [{"name": "chance", "auc": 0.5}]
    else:
        from tf_models.scoring import popularity_sequences

        floors = [{"name": "popularity ranking", **popularity_sequences(args.examples, job_table=args.job_table)}]
    for path in args.baseline_models:
        name = read_metadata(path).get("params", {}).get("model") or Path(path).parent.name
        floors.append({"name": f"{name} baseline", **score_model(path, args)})
    return floors


def highest(floors: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """The floor with the highest ``metric`` (the first one when none is defined)."""
    defined = [f for f in floors if f.get(metric) is not None]
    return max(defined, key=lambda f: f[metric]) if defined else floors[0]


def decide(metric: str, candidate: dict[str, Any], champion: dict[str, Any] | None, floor: dict[str, Any],
           margin: float, alias_name: str) -> tuple[bool, str]:
    """(promote?, why): beat the highest baseline first, then the champion (if any) by more than ``margin``."""
    score, base = candidate[metric], floor[metric]
    if score is None:
        return False, f"candidate {metric} undefined on this validation data"
    if base is not None and score <= base:
        return False, (f"candidate {metric} {score:.4f} does not beat the {floor['name']}'s {base:.4f} "
                       "on this validation data")
    beats = (f"candidate {metric} {score:.4f} beats the {floor['name']}'s {base:.4f}" if base is not None
             else f"{floor['name']} {metric} undefined on this validation data")
    if champion is None:
        return True, f"no @{alias_name} yet; {beats}"
    if champion[metric] is None:
        return True, f"champion {metric} undefined on this validation data; {beats}"
    return score > champion[metric] + margin, (f"candidate {metric} {score:.4f} vs champion {champion[metric]:.4f} "
                                               f"(margin {margin}); {beats}")


def run(args: PromoteArgs) -> dict[str, Any]:
    from tf_models.registry import alias_version, connect, set_alias

    PRIMARY = gate_metric(args.examples)
    client = connect(args.settings())
    candidate = evaluate(f"models:/{args.name}/{args.version}", args)
    current = alias_version(args.name, args.alias, client)
    champion = evaluate(f"models:/{args.name}/{current}", args) if current and current != args.version else None
    floors = baselines(args, PRIMARY)
    floor = highest(floors, PRIMARY)
    if current == args.version:
        promoted, reason = False, f"version {args.version} already is @{args.alias}"
    else:
        promoted, reason = decide(PRIMARY, candidate, champion, floor, args.min_improvement, args.alias)
    if promoted:
        set_alias(args.name, args.version, args.alias, client)
    result = {"promoted": promoted, "reason": reason, "metric": PRIMARY, "candidate": candidate, "champion": champion,
              "baseline": floor, "baselines": floors}
    run_id = client.get_model_version(args.name, args.version).run_id
    if run_id:
        for who, metrics in (("candidate", candidate), ("champion", champion), ("baseline", floor)):
            for key, value in (metrics or {}).items():
                if isinstance(value, float):
                    client.log_metric(run_id, f"gate_{who}_{key.replace('@', '_at_')}", value)
    client.set_model_version_tag(args.name, args.version, "promotion", json.dumps(result, default=str)[:5000])
    return result


def main(argv: list[str] | None = None) -> int:
    return command_main("promote", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
