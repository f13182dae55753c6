"""The report's PNG plots (matplotlib, Agg backend): written under docs/evaluation/, linked from the report.

Each function takes the per-dataset summaries (:func:`evaluation.comparisons.summarize`) or raw rows and
returns the path it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from evaluation.retrieval import POLICIES  # noqa: E402


def _bars(ax, labels: list[str], stats: list[tuple], title: str, scale: float = 1.0) -> None:
    means = [(s[0] or 0.0) * scale for s in stats]
    sds = [(s[1] or 0.0) * scale for s in stats]
    ax.bar(labels, means, yerr=sds, capsize=3, color="#4477aa")
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    finite = [m for m, s in zip(means, stats) if s[0] is not None]
    if finite and min(finite) > 0 and scale == 1.0:
        low = min(m - d for m, d in zip(means, sds))
        ax.set_ylim(max(0.0, low - 0.02), max(m + d for m, d in zip(means, sds)) + 0.01)


def auc_and_lift(summaries: dict[str, dict], models: list[str], window: int, out: Path) -> Path:
    """Recall@10 (the headline), downstream lift and the proxy's test AUC by aggregator, a row per dataset."""
    fig, axes = plt.subplots(len(summaries), 3, figsize=(11, 3.2 * len(summaries)), squeeze=False)
    for row, (dataset, summary) in zip(axes, summaries.items()):
        names = [f"{m}-w{window}" for m in models]
        for ax, (metric, title, scale) in zip(row, (("recall@10", "Recall@10 of new positives", 1.0),
                                                   ("lift", "downstream lift (%)", 100.0),
                                                   ("auc", "test AUC (proxy)", 1.0))):
            _bars(ax, models, [summary.get(n, {}).get(metric, (None, None, 0)) for n in names],
                  f"{dataset}: {title}", scale)
    fig.tight_layout()
    return _save(fig, out / "auc_lift_by_model.png")


def window_curve(summaries: dict[str, dict], model: str, windows: tuple[int, ...], out: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for dataset, summary in summaries.items():
        for ax, metric, title in ((axes[0], "recall@10", "Recall@10"), (axes[1], "ndcg@10", "NDCG@10")):
            stats = [summary.get(f"{model}-w{w}", {}).get(metric, (None, None, 0)) for w in windows]
            xs = [w for w, s in zip(windows, stats) if s[0] is not None]
            ys = [s[0] for s in stats if s[0] is not None]
            es = [s[1] or 0.0 for s in stats if s[0] is not None]
            ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=dataset)
            ax.set_xscale("log", base=2)
            ax.set_xticks(list(windows), [str(w) for w in windows])
            ax.set_xlabel("window W (events)")
            ax.set_title(f"{title} by window length ({model})", fontsize=9)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, out / "window_curve.png")


def freshness_curve(summaries: dict[str, dict], models: list[str], window: int, out: Path) -> Path:
    fig, axes = plt.subplots(1, len(summaries), figsize=(5 * len(summaries), 3.5), squeeze=False)
    for ax, (dataset, summary) in zip(axes[0], summaries.items()):
        for model in models:
            stats = [summary.get(f"{model}-w{window}", {}).get(f"fresh_{p}", (None, None, 0)) for p in POLICIES]
            if all(s[0] is None for s in stats):
                continue
            ax.errorbar(range(len(POLICIES)), [s[0] or np.nan for s in stats], yerr=[s[1] or 0 for s in stats],
                        marker="o", capsize=3, label=model)
        ax.set_xticks(range(len(POLICIES)), [p.replace("_", " ") for p in POLICIES], fontsize=8)
        ax.set_xlabel("embedding recomputed")
        ax.set_ylabel("HR@10 of the next new positive")
        ax.set_title(f"{dataset}: freshness", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, out / "freshness_curve.png")


def cosine_histogram(cosines: dict[str, dict[str, Any]], out: Path, source: str) -> Path:
    """Day-over-day cosine histograms (active vs inactive users), one panel per dataset."""
    fig, axes = plt.subplots(1, len(cosines), figsize=(5 * len(cosines), 3.2), squeeze=False)
    for ax, (dataset, c) in zip(axes[0], cosines.items()):
        bins = np.asarray(c.get("bins", np.linspace(-1, 1, 41)))
        centres, width = (bins[1:] + bins[:-1]) / 2, bins[1] - bins[0]
        for group, colour in (("inactive", "#999999"), ("active", "#cc6677")):
            hist = np.asarray(c.get(f"{group}_hist", np.zeros(len(centres))), float)
            if hist.sum():
                ax.bar(centres, hist / hist.sum(), width=width, alpha=0.6, color=colour,
                       label=f"{group} ({c.get(f'{group}_pairs', 0)})")
        ax.set_xlabel("cosine(embedding day d−1, day d)")
        ax.set_ylabel("share of users")
        ax.set_title(f"{dataset}: day-over-day cosine ({source})", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, out / "cosine_histogram.png")


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
