"""Bodies of the training tasks that are not Spark jobs: plan, read a run's result, promote, report.

Called from ``dags/jobtrail_training.py``. Training itself goes through the launcher
(:mod:`orchestration.launchers`); the promotion gate (``jobtrail promote``: score candidate and
champion on the same validation split, move the alias only when the candidate is better) runs on the worker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.settings import Settings
from orchestration.plans import training_plan
from orchestration.runtime import run_jobtrail

log = logging.getLogger(__name__)
METRICS_SHOWN = ("val_recall_at_10", "val_auc", "val_loss")


def plan_run(params: Mapping[str, Any], *, run_after: datetime, run_id: str,
             settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or Settings.from_env()
    plan = training_plan(params, run_after=run_after, run_id=run_id, data_root=settings.data_root)
    log.info("training %s on %s..%s (validation from %s), W=%d, examples in %s, model in %s", plan.aggregator,
             plan.start, plan.end, plan.valid_from, plan.window, plan.examples_dir, plan.model_dir())
    return plan.to_xcom()


def read_result(model_dir: str | Path, *, step: str) -> dict[str, Any]:
    """``<model_dir>/result.json`` written by ``jobtrail train`` (whichever launcher ran it)."""
    path = Path(model_dir) / "result.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise ConfigError(f"step {step!r}: no {path}; the training step did not finish — see its log") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"step {step!r}: {path} is not valid JSON ({e})") from e


def candidate(plan_xcom: Mapping[str, Any]) -> dict[str, Any]:
    result = read_result(plan_xcom["model_dir"], step="train")
    if not result.get("model_version"):
        raise ConfigError(f"the candidate in {plan_xcom['model_dir']} was not registered in MLflow "
                          f"(no model_version in result.json); check MLFLOW_TRACKING_URI and the train log")
    metrics = result.get("metrics", {})
    log.info("candidate %s v%s: %s", result.get("model_name"), result["model_version"],
             ", ".join(f"{k}={metrics.get(k)}" for k in METRICS_SHOWN))
    return result


def promote(plan_xcom: Mapping[str, Any], candidate_result: Mapping[str, Any], params: Mapping[str, Any],
            run_after: datetime, run_id: str) -> dict[str, Any]:
    plan = training_plan(params, run_after=run_after, run_id=run_id, data_root=Path(plan_xcom["data_root"]))
    baselines = plan.baseline_models()
    missing = [str(path) for path in baselines if not (path / "saved_model.pb").exists()]
    if missing:
        raise ConfigError(f"the baselines {missing} were not exported; the gate cannot compare with them")
    result = run_jobtrail(plan.promote_args(candidate_result["model_version"], baselines), step="promote")
    log.info("promotion: promoted=%s (%s)", result.get("promoted"), result.get("reason"))
    return result


def baselines(plan_xcom: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Results of the baseline runs that finished (``{aggregator: result}``)."""
    out = {}
    for folder in plan_xcom.get("baseline_dirs", []):
        path = Path(folder) / "result.json"
        if path.exists():
            out[Path(folder).name] = json.loads(path.read_text())
    return out


def _row(name: str, recall: Any, auc: Any, loss: Any, source: str) -> str:
    cells = ["—" if v is None else f"{float(v):.4f}" for v in (recall, auc, loss)]
    return f"| {name} | {' | '.join(cells)} | {source} |"


def _trained(name: str, metrics: Mapping[str, Any]) -> str:
    return _row(name, metrics.get("val_recall_at_10"), metrics.get("val_auc"), metrics.get("val_loss"), "training")


def report(plan_xcom: Mapping[str, Any], candidate_result: Mapping[str, Any] | None,
           promotion: Mapping[str, Any] | None) -> dict[str, Any]:
    """One table on the same validation split: the candidate (training metrics and the gate's scores), the
    champion (the gate's scores) and the baselines (training metrics)."""
    base = baselines(plan_xcom)
    cand = dict((candidate_result or {}).get("metrics", {}))
    promotion = dict(promotion or {})
    lines = ["| model | Recall@10 | AUC (proxy) | log loss | scored by |", "|---|---|---|---|---|",
             _trained(f"{plan_xcom['aggregator']} (candidate)", cand)]
    for who in ("candidate", "champion"):
        scored = promotion.get(who)
        if scored:
            label = (f"{plan_xcom['aggregator']} (candidate)" if who == "candidate"
                     else f"champion v{scored.get('version')}")
            lines.append(_row(label, scored.get("recall@10"), scored.get("auc"), scored.get("log_loss"),
                              "promotion gate"))
    lines += [_trained(f"{name} (baseline)", r.get("metrics", {})) for name, r in sorted(base.items())]
    decision = (f"promoted to champion: {promotion.get('promoted')} ({promotion.get('reason')})"
                if promotion else "not evaluated")
    log.info("validation %s..%s:\n%s\n%s", plan_xcom["valid_from"], plan_xcom["end"], "\n".join(lines), decision)
    summary = {"start": plan_xcom["start"], "end": plan_xcom["end"], "valid_from": plan_xcom["valid_from"],
            "aggregator": plan_xcom["aggregator"], "examples_dir": plan_xcom["examples_dir"],
            "model_name": (candidate_result or {}).get("model_name"),
            "model_version": (candidate_result or {}).get("model_version"),
            "metrics": cand, "promotion": promotion,
            "baselines": {k: v.get("metrics", {}) for k, v in base.items()}, "table": "\n".join(lines)}
    out = Path(plan_xcom["model_dir"]).parent / "report.json"  # the run folder, next to every model of the run
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    log.info("report written to %s", out)
    return summary


def should_refresh(params: Mapping[str, Any], promotion: Mapping[str, Any] | None) -> bool:
    wanted = bool(params.get("refresh_daily"))
    promoted = bool((promotion or {}).get("promoted"))
    log.info("refresh the daily embeddings: requested=%s, promoted=%s", wanted, promoted)
    return wanted and promoted

