"""Seeds → mean ± sd per variant, the write-ups' findings and the ablations checked against jobtrail's numbers,
and the quality targets.

Every comparison reads the headline metric, Recall@10 of the horizon's new positives from the embedding as of
the cutoff (:func:`evaluation.retrieval.retrieval_at_cutoff`), except where the claim is about another
quantity (lift, storage). A difference Δ between two variants' means is compared with the seed noise
``sqrt(sd_a² + sd_b²)``: **reproduced** when Δ points the claim's way by more than the noise, **within
noise** when |Δ| does not exceed it, **not reproduced** when it points the other way by more than the
noise, **partly** where a claim has two parts and one holds, **n/a** when a variant did not run.

- the seeds' order ``mean < decay < CNN < transformer`` as three claims (CNN's also "at a third of the
  storage": ≤ 0.4× decay's bytes per user);
- ``unified ≈ 2× multi-sequence lift``: downstream lift of the unified-timeline transformer over that of the
  multi-sequence transformer — reproduced at a ratio ≥ 1.5 (both positive), partly when merely larger
  beyond the noise;
- ``monotonic gains with window length``: reproduced when Recall@10 never drops by more than the noise from
  one W to the next and the longest W beats the shortest beyond the noise; partly when only the latter holds;
- the objective ablations: per-position next-item over one-target BCE, the future window over next-item
  alone, mixed over in-batch-only negatives, the job-id embedding over content alone.

:func:`targets`: the quality bars a published embedding must clear (:data:`TARGETS`).
"""

from __future__ import annotations

from typing import Any

from tf_models.metrics import mean_sd

METRICS: dict[str, tuple[str, ...]] = {
    "auc": ("proxy", "auc"), "log_loss": ("proxy", "log_loss"), "auc_dismiss": ("proxy", "auc_dismiss"),
    "auc_random": ("proxy", "auc_random_negative"), "lift": ("downstream", "lift"),
    "downstream_auc": ("downstream", "auc_with"), "downstream_auc_without": ("downstream", "auc_without"),
    "recall@10": ("retrieval", "recall@10"), "ndcg@10": ("retrieval", "ndcg@10"),
    "recall_all@10": ("retrieval", "recall_all@10"), "ndcg_all@10": ("retrieval", "ndcg_all@10"),
    "coverage": ("retrieval", "coverage_p90@10"), "probe": ("probe", "probe_accuracy"),
    "career": ("probe", "career_accuracy"), "career_older": ("probe", "career_older_share"),
    "bytes": ("storage", "float32_bytes"), "parquet_bytes": ("storage", "parquet_bytes"),
    "train_seconds": ("train_seconds",), "val_auc": ("val_auc",),
    **{f"fresh_{p}": ("freshness", p, "hr@10") for p in ("per_event", "hourly", "daily", "weekly", "once")},
}


def headline_model(cfg: dict[str, Any]) -> str:
    """The aggregator the quality targets are judged on: the ablations' model, else the last one trained."""
    return cfg["ablation_model"] if cfg["ablation_model"] in cfg["models"] else cfg["models"][-1]


def value(row: dict[str, Any], metric: str) -> float | None:
    node: Any = row
    for key in METRICS[metric]:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def summarize(rows: list[dict[str, Any]], dataset: str) -> dict[str, dict[str, tuple]]:
    """variant name → metric → (mean, sd, n) over the dataset's seeds."""
    out: dict[str, dict[str, tuple]] = {}
    for name in dict.fromkeys(r["variant"] for r in rows if r["dataset"] == dataset):
        runs = [r for r in rows if r["dataset"] == dataset and r["variant"] == name]
        out[name] = {m: mean_sd([value(r, m) for r in runs]) for m in METRICS}
    return out


def fmt(stat: tuple | None, digits: int = 4) -> str:
    """``mean ± sd`` (or ``mean`` with one seed, ``—`` without data)."""
    if not stat or stat[0] is None:
        return "—"
    mean, sd, _ = stat
    return f"{mean:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd else "")


def _get(summary: dict, variant: str, metric: str) -> float | None:
    return summary.get(variant, {}).get(metric, (None,))[0]


def _compare(summary: dict, a: str, b: str, metric: str) -> tuple[float | None, float]:
    """(mean of a − mean of b, the seed noise sqrt(sd_a² + sd_b²)); Δ None when either is missing."""
    x, y = summary.get(a, {}).get(metric), summary.get(b, {}).get(metric)
    if not x or not y or x[0] is None or y[0] is None:
        return None, 0.0
    return x[0] - y[0], float(((x[1] or 0.0) ** 2 + (y[1] or 0.0) ** 2) ** 0.5)


def _verdict(delta: float | None, noise: float) -> str:
    if delta is None:
        return "n/a"
    return "reproduced" if delta > noise else "not reproduced" if delta < -noise else "within noise"


def findings(summary: dict, *, base_window: int, windows: tuple[int, ...], window_model: str,
             ablation_model: str) -> list[dict[str, str]]:
    """The write-ups' findings and the ablations for one dataset's summary (see the module docstring)."""
    w = f"w{base_window}"
    out = []

    def recall(variant: str) -> str:
        return fmt(summary.get(variant, {}).get("recall@10"))

    def better(claim: str, a: str, b: str, label_a: str, label_b: str) -> dict[str, str]:
        d, noise = _compare(summary, a, b, "recall@10")
        c, _ = _compare(summary, a, b, "coverage")
        auc, _ = _compare(summary, a, b, "auc")
        return _finding(claim, _verdict(d, noise),
                        f"Recall@10 {label_a} {recall(a)} vs {label_b} {recall(b)}; Δ {_signed(d)} (noise ±{noise:.4f}); "
                        f"Δ P90 coverage {_signed(c)}; Δ test AUC (proxy) {_signed(auc)}")

    out.append(better("decay > mean", f"decay-{w}", f"mean-{w}", "decay", "mean"))
    cnn = better("CNN > decay at a third of the storage", f"cnn-{w}", f"decay-{w}", "CNN", "decay")
    cnn_b, decay_b = _get(summary, f"cnn-{w}", "bytes"), _get(summary, f"decay-{w}", "bytes")
    cnn_p, decay_p = _get(summary, f"cnn-{w}", "parquet_bytes"), _get(summary, f"decay-{w}", "parquet_bytes")
    ratio = cnn_b / decay_b if cnn_b and decay_b else None
    if cnn["verdict"] == "reproduced" and (ratio is None or ratio > 0.4):
        cnn["verdict"] = "partly"
    cnn["detail"] += (f"; bytes/user {_num(cnn_b, 0)} vs {_num(decay_b, 0)} float32 (×{_num(ratio, 2)}), "
                      f"{_num(cnn_p, 0)} vs {_num(decay_p, 0)} in zstd Parquet")
    out.append(cnn)
    out.append(better("transformer > CNN", f"transformer-{w}", f"cnn-{w}", "transformer", "CNN"))

    uni, multi = _get(summary, f"transformer-{w}", "lift"), _get(summary, f"multiseq-{w}", "lift")
    d, noise = _compare(summary, f"transformer-{w}", f"multiseq-{w}", "lift")
    ratio = uni / multi if uni is not None and multi not in (None, 0) else None
    verdict = _verdict(d, noise)
    if verdict == "reproduced" and not (multi > 0 and ratio is not None and ratio >= 1.5):
        verdict = "partly"
    out.append(_finding("unified timeline ≈ 2× the multi-sequence lift", verdict,
                        f"downstream lift unified {_signed(uni, pct=True)} vs multi-sequence "
                        f"{_signed(multi, pct=True)} (ratio {_num(ratio, 2)}; noise ±{noise * 100:.2f}%); Recall@10 "
                        f"{recall(f'transformer-{w}')} vs {recall(f'multiseq-{w}')}"))

    names = [f"{window_model}-w{x}" for x in windows]
    steps = [_compare(summary, b, a, "recall@10") for a, b in zip(names, names[1:])]
    total, noise = _compare(summary, names[-1], names[0], "recall@10")
    claim = f"monotonic gains with window length ({window_model})"
    if total is None or any(s[0] is None for s in steps):
        out.append(_finding(claim, "n/a", "not run"))
    else:
        overall = _verdict(total, noise)
        monotone = all(delta >= -n for delta, n in steps)
        verdict = overall if overall != "reproduced" else "reproduced" if monotone else "partly"
        out.append(_finding(claim, verdict, "Recall@10 " + ", ".join(
            f"W={x}: {_get(summary, n, 'recall@10'):.4f}" for x, n in zip(windows, names))
            + f"; W={windows[0]}→{windows[-1]} {_signed(total)} (noise ±{noise:.4f}); "
            f"{sum(delta >= -n for delta, n in steps)} of {len(steps)} steps without a drop beyond noise"))

    m = ablation_model
    out.append(better(f"per-position next-item > one-target BCE ({m})", f"{m}-{w}-next", f"{m}-{w}-next-action",
                      "next-item", "one-target"))
    out.append(better(f"future window > next-item alone ({m})", f"{m}-{w}", f"{m}-{w}-next", "future window",
                      "next-item"))
    out.append(better(f"mixed negatives > in-batch only ({m})", f"{m}-{w}", f"{m}-{w}-in-batch", "mixed",
                      "in-batch"))
    out.append(better(f"job-id embedding > content alone ({m})", f"{m}-{w}", f"{m}-{w}-no-ids", "id + content",
                      "content"))
    return out


TARGETS = {"recall_ratio": {"synthetic": 1.5, "movielens": 1.1}, "lift": 0.035, "freshness_loss": 0.10}
"""The bars a published embedding must clear: Recall@10 ≥ ratio × the popularity ranking's (with P90 coverage
not below it; on a platform's own data, ratio 1: the model must beat popularity); downstream lift ≥ +3.5% relative ROC-AUC (the seed's click figure); daily refresh losing ≤ 10%
of per-event Recall@10 (PinnerFormer: 8.3%); the latent-intent probe ≥ the better category baseline."""


def targets(summary: dict, dataset: str, model_variant: str, baseline: dict | None,
            probe_baselines: dict | None) -> list[dict[str, str]]:
    """Each target of :data:`TARGETS` for ``model_variant`` on one dataset: met / missed / n/a with the numbers."""
    out = []
    base = baseline or {}
    s = summary.get(model_variant, {})
    mean = lambda metric: s.get(metric, (None,))[0]  # noqa: E731
    pop_recall = (base.get("retrieval") or {}).get("recall@10")
    pop_cov = (base.get("retrieval") or {}).get("coverage_p90@10")
    ratio_target = TARGETS["recall_ratio"].get(dataset, 1.0)
    r, cov = mean("recall@10"), mean("coverage")
    if ratio_target and r is not None and pop_recall:
        ok = r >= ratio_target * pop_recall and (pop_cov is None or cov is None or cov >= pop_cov)
        out.append(_finding(f"Recall@10 ≥ {ratio_target}× popularity, P90 coverage ≥ popularity's",
                            "met" if ok else "missed",
                            f"{fmt(s.get('recall@10'))} vs {pop_recall:.4f} (×{r / pop_recall:.2f}); coverage "
                            f"{_num(cov, 4)} vs {_num(pop_cov, 4)}"))
    lift = mean("lift")
    if lift is not None:
        out.append(_finding(f"downstream lift ≥ +{TARGETS['lift']:.1%}", "met" if lift >= TARGETS["lift"] else "missed",
                            f"{_signed(lift, pct=True)} (sd {_num((s['lift'][1] or 0) * 100, 2)}%)"))
    per_event, daily = mean("fresh_per_event"), mean("fresh_daily")
    if per_event and daily is not None:
        loss = 1 - daily / per_event
        out.append(_finding(f"daily vs per-event refresh loses ≤ {TARGETS['freshness_loss']:.0%} of HR@10",
                            "met" if loss <= TARGETS["freshness_loss"] else "missed",
                            f"daily {daily:.4f} vs per-event {per_event:.4f} ({-loss:+.1%})"))
    probe = mean("probe")
    if probe is not None and probe_baselines:
        best = max((probe_baselines.get(k) or {}).get("probe_accuracy", 0.0)
                   for k in ("latest_category", "majority_category"))
        out.append(_finding("latent-intent probe ≥ the better category baseline", "met" if probe >= best else "missed",
                            f"{fmt(s.get('probe'), 3)} vs {best:.3f}"))
    return out


def _finding(claim: str, verdict: str, detail: str) -> dict[str, str]:
    return {"claim": claim, "verdict": verdict, "detail": detail}


def _signed(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x * 100:+.2f}%" if pct else f"{x:+.4f}"


def _num(x: float | None, digits: int) -> str:
    return "—" if x is None else f"{x:.{digits}f}"
