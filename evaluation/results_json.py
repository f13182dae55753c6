"""docs/evaluation.json: the evaluation's figures for programs, merged run by run beside docs/evaluation.md.

    write_json(results, Path("docs/evaluation.json"))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evaluation.comparisons import headline_model, summarize, targets
from evaluation.config import BASE_WINDOW
from tf_models.metrics import mean_sd

AMAZON_METRICS = (("hr@10", "hr@10"), ("ndcg@10", "ndcg@10"), ("hr@10_full", "full_hr@10"),
                  ("ndcg@10_full", "full_ndcg@10"))
"""Amazon Games: the JSON key and the row's key of each metric."""
DATASET_METRICS = {"recall@10": "recall@10", "recall@10_sd": "recall@10", "ndcg@10": "ndcg@10",
                   "recall_all@10": "recall_all@10", "ndcg_all@10": "ndcg_all@10", "coverage_p90@10": "coverage",
                   "lift": "lift", "auc": "auc", "probe": "probe"}
"""The other datasets: the JSON key and the summary's metric (``_sd``: its standard deviation over seeds)."""


def write_json(results: dict[str, Any], path: Path) -> Path:
    """The machine-readable results in ``path`` (docs/evaluation.json), merged: a run replaces the keys it
    measured (``amazon_games``, ``datasets.<name>``) and keeps the others, each with its own preset and minutes.

    Keys: ``preset`` and ``minutes`` (the latest run), ``amazon_games.models.<model>.{hr@10, ndcg@10, hr@10_full,
    ndcg@10_full}`` (means over seeds) and ``amazon_games.popularity.hr@10``; ``datasets.<dataset>.models.<model>.
    {recall@10, ndcg@10, recall_all@10, coverage_p90@10, lift, auc, probe}`` (the W = 32 aggregators; lift as a
    fraction), the same for every variant under ``datasets.<dataset>.variants.<variant name>``,
    ``datasets.<dataset>.popularity.recall@10``, ``datasets.<dataset>.targets.<target>`` (met / missed) and, on
    synthetic data, ``datasets.synthetic.probe.{<model>, latest_category, majority_category}``.
    """
    current = json.loads(path.read_text()) if path.exists() else {}
    run = {"preset": results["config"]["name"], "minutes": round(results["seconds"] / 60, 1),
           "command": results["command"], "started": results["started"], "machine": results["machine"],
           "contention": results.get("contention")}
    current.update(run)
    if results.get("amazon"):
        current["amazon_games"] = amazon_entry(results["amazon"], run)
    for name in results["datasets"]:
        current.setdefault("datasets", {})[name] = dataset_entry(results, name, run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, sort_keys=True, default=str) + "\n")
    return path


def amazon_entry(amazon: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """``amazon_games``: each model's means over seeds (and its runs), popularity, SASRec's published figures."""
    models: dict[str, Any] = {}
    for model in dict.fromkeys(r["model"] for r in amazon["rows"] if r["model"] != "popularity"):
        runs = [r for r in amazon["rows"] if r["model"] == model]
        models[model] = {out: mean_sd([r.get(key) for r in runs])[0] for out, key in AMAZON_METRICS}
        models[model] |= {"seeds": [r["seed"] for r in runs], "per_seed": runs}
    popular = next((r for r in amazon["rows"] if r["model"] == "popularity"), {})
    return {**run, "models": models, "sasrec_published": amazon["sasrec"],
            "popularity": {out: popular.get(key) for out, key in AMAZON_METRICS},
            "objective": amazon["info"].get("objective"), "train": amazon.get("train")}


def dataset_entry(results: dict[str, Any], name: str, run: dict[str, Any]) -> dict[str, Any]:
    """``datasets.<name>``: every variant's means over seeds, the W = 32 models, popularity, the targets' verdicts
    and, where the dataset has one, the latent-intent probe beside its category baselines."""
    summary = summarize(results["rows"], name)
    base = (results.get("baselines") or {}).get(name) or {}
    cfg = results["config"]
    variants = {variant: {out: s[key][1 if out.endswith("_sd") else 0] for out, key in DATASET_METRICS.items()}
                | {"seeds": s["recall@10"][2]} for variant, s in summary.items()}
    at_base_window = {v.split("-w")[0]: m for v, m in variants.items() if v.endswith(f"-w{BASE_WINDOW}")}
    popular = base.get("retrieval") or {}
    probe_base = cfg.get("probe_baselines", {}).get(name)
    entry = {"models": at_base_window, "variants": variants,
             "popularity": {k: popular.get(k) for k in ("recall@10", "ndcg@10", "recall_all@10", "coverage_p90@10")},
             "targets": {t["claim"]: t["verdict"] for t in targets(
                 summary, name, f"{headline_model(cfg)}-w{BASE_WINDOW}", base, probe_base)}, **run}
    if probe_base:
        entry["probe"] = {model: m["probe"] for model, m in at_base_window.items() if m["probe"] is not None}
        entry["probe"] |= {k: (probe_base.get(k) or {}).get("probe_accuracy")
                           for k in ("latest_category", "majority_category")}
    return entry
