"""Presets, mean ± sd over seeds, the write-ups' verdicts, and the rendered report."""

from __future__ import annotations

from datetime import date

import pytest

from evaluation.comparisons import findings, fmt, summarize
from evaluation.config import SMALL, DatasetSpec, Variant
from jobtrail.errors import ConfigError


def _row(variant: str, seed: int, auc: float, lift: float, recall: float = 0.1, bytes_: int = 128, **extra) -> dict:
    model = variant.split("-")[0]
    return {"dataset": "d", "variant": variant, "model": model, "seed": seed, "window": 32,
            "proxy": {"auc": auc, "log_loss": 0.6}, "downstream": {"lift": lift, "auc_with": 0.7},
            "retrieval": {"recall@10": recall, "coverage_p90@10": 0.2}, "storage": {"float32_bytes": bytes_},
            "freshness": {p: {"hr@10": 0.1, "targets": 4, "median_age_hours": 2.0}
                          for p in ("per_event", "hourly", "daily", "weekly", "once")}, **extra}


def test_presets_and_narrowing():
    groups = SMALL.groups()
    assert set(groups) == {"aggregators", "window", "negatives", "retrieval"}
    assert len(SMALL.variants()) == 5 + 4 + 1 + 1  # W=32 and the transformer baseline are shared
    assert SMALL.examples_keys() == ["w128", "w16", "w32", "w32_interleaved", "w64", "w8"]
    assert Variant("transformer", interleaved=True).name == "transformer-w32-interleaved"
    narrow = SMALL.narrowed(datasets=["synthetic"], models=["mean", "cnn"], seeds=2)
    assert [d.name for d in narrow.datasets] == ["synthetic"] and narrow.amazon is None
    assert narrow.seeds == (1, 2) and set(narrow.groups()) == {"aggregators", "window"}
    with pytest.raises(ConfigError):
        SMALL.narrowed(datasets=["imdb"])
    with pytest.raises(ConfigError):
        DatasetSpec("x", "synthetic", date(2026, 1, 1), date(2026, 1, 20), date(2026, 1, 5), date(2026, 1, 10),
                    horizon_days=14)  # the horizon passes the end of the data


def test_summary_is_mean_and_sd_over_seeds():
    rows = [_row("mean-w32", 1, 0.60, 0.01), _row("mean-w32", 2, 0.62, 0.03), _row("mean-w32", 3, 0.64, 0.02),
            {"dataset": "d", "variant": "cnn-w32", "model": "cnn", "seed": 1, "error": "KeyError: x"}]
    s = summarize(rows, "d")
    assert s["mean-w32"]["auc"][:2] == (pytest.approx(0.62), pytest.approx(0.02))
    assert fmt(s["mean-w32"]["auc"]) == "0.6200 ± 0.0200" and fmt(s["cnn-w32"]["auc"]) == "—"


def test_findings_verdicts():
    rows = [_row("mean-w32", 1, 0.60, 0.01, bytes_=384), _row("decay-w32", 1, 0.62, 0.02, bytes_=384),
            _row("cnn-w32", 1, 0.65, 0.03, bytes_=128), _row("transformer-w32", 1, 0.66, 0.04),
            _row("multiseq-w32", 1, 0.64, 0.02), _row("transformer-w32-interleaved", 1, 0.65, 0.03),
            *[_row(f"cnn-w{w}", 1, 0.60 + i / 100, 0.01) for i, w in enumerate((8, 16, 64, 128))]]
    rows[-2]["proxy"]["auc"] = 0.66  # W=64 above W=128: not monotone
    verdicts = {f["claim"]: f["verdict"] for f in findings(
        summarize(rows, "d"), base_window=32, windows=(8, 16, 32, 64, 128), window_model="cnn",
        ablation_model="transformer", retrieval_variant="transformer-w32-retrieval0.5")}
    assert verdicts == {
        "decay > mean (test AUC)": "reproduced",
        "CNN > decay at a third of the storage": "reproduced",
        "unified timeline ≈ 2× the multi-sequence lift": "reproduced",  # 0.04 / 0.02
        "monotonic gains with window length (cnn)": "partly",
        "random negatives in the timeline (write-up) vs targets only": "not reproduced",
        "retrieval objective improves retrieval (less popularity collapse)": "n/a",
    }


def test_report_renders_every_section_and_plot(tmp_path):
    from dataclasses import asdict

    from evaluation.report import write_report

    cfg = SMALL.narrowed(datasets=["synthetic", "amazon"], seeds=2)
    rows = [_row(v.name, s, 0.6 + i / 100, 0.01 * i, probe={"probe_accuracy": 0.5, "career_accuracy": 0.4,
                                                           "career_older_share": 0.2, "probe_users": 9})
            for i, v in enumerate(cfg.variants()) for s in cfg.seeds]
    for r in rows:
        r["dataset"] = "synthetic"
    rows.append({"dataset": "synthetic", "variant": "transformer-w32-retrieval0.5", "model": "transformer", "seed": 1,
                 "error": "KeyError: the optimizer cannot recognize variable retrieval_query/kernel:0"})
    cosine = {"pairs": 3, "bins": [-1.0, 0.0, 1.0], "active_pairs": 1, "active_hist": [0, 1],
              "active_quantiles": {0.05: 0.5, 0.5: 0.6, 0.95: 0.7}, "inactive_pairs": 2, "inactive_hist": [0, 2],
              "inactive_quantiles": {0.05: 1.0, 0.5: 1.0, 0.95: 1.0}}
    info = {"events": 10, "users": 2, "jobs": 5, "seconds": 1.0, "examples": {"w32": {"train": 3, "validation": 1,
            "test": 2}}, "spec": {"start": "2026-10-01", "valid_from": "2026-10-25", "cutoff": "2026-11-01",
                                  "horizon_days": 14}}
    results = {"command": "jobtrail evaluate --preset small", "config": {**asdict(cfg), "datasets": ["synthetic"],
               "probe_baselines": {"synthetic": {"majority_category": {"probe_accuracy": 0.8, "career_accuracy": 0.3,
                                                                       "career_older_share": 0.6}}}},
               "started": "2026-11-24T00:00:00+00:00", "seconds": 600.0, "machine": "test machine",
               "versions": {"Python": "3.11"}, "datasets": {"synthetic": info}, "rows": rows,
               "baselines": {"synthetic": {"proxy": {"auc": 0.55}, "retrieval": {"recall@10": 0.01},
                                           "freshness": {p: {"hr@10": 0.01} for p in
                                                         ("per_event", "hourly", "daily", "weekly", "once")}}},
               "cosine": {"synthetic": cosine}, "cosine_note": "computed here",
               "amazon": {"info": {"users": 3, "items": 9, "events": 20, "test_users": 3, "train_examples": 8},
                          "rows": [{"model": "popularity", "seed": None, "hr@10": 0.5, "ndcg@10": 0.3},
                                   {"model": "transformer", "seed": 1, "hr@10": 0.6, "ndcg@10": 0.4}],
                          "sasrec": {"hr@10": 0.741, "ndcg@10": 0.536}, "window": 32, "stride": 8}}
    doc = write_report(results, tmp_path / "docs" / "evaluation.md")
    text = doc.read_text()
    for heading in ("## Findings of the source write-ups", "### Window length (cnn)", "### Freshness",
                    "### Latent-intent probe", "### Runs that failed to train", "## Day-over-day cosine",
                    "## Amazon Games — SASRec protocol", "SASRec (published)", "popularity (no model)"):
        assert heading in text, heading
    assert "10.0 minutes" in text and "**reproduced**" in text
    pngs = sorted(p.name for p in (tmp_path / "docs" / "evaluation").glob("*.png"))
    assert pngs == ["auc_lift_by_model.png", "cosine_histogram.png", "freshness_curve.png", "window_curve.png"]

    import json

    machine_readable = json.loads((tmp_path / "docs" / "evaluation.json").read_text())
    assert machine_readable["preset"] == "small" and machine_readable["minutes"] == 10.0
    assert machine_readable["amazon_games"]["models"]["transformer"]["hr@10"] == 0.6
    assert machine_readable["amazon_games"]["popularity"]["hr@10"] == 0.5
    synthetic = machine_readable["datasets"]["synthetic"]
    assert set(synthetic["models"]["cnn"]) >= {"recall@10", "ndcg@10", "lift"}
    assert synthetic["popularity"]["recall@10"] == 0.01

    # the Amazon benchmark alone (--preset sasrec) rewrites its own section and JSON key, nothing else
    amazon_only = {**results, "command": "jobtrail evaluate --preset sasrec", "datasets": {}, "rows": [],
                   "config": {**results["config"], "name": "sasrec"}, "seconds": 1800.0,
                   "amazon": {**results["amazon"], "rows": [
                       {"model": "popularity", "seed": None, "hr@10": 0.5, "ndcg@10": 0.3},
                       *({"model": "transformer", "seed": s, "hr@10": h, "ndcg@10": 0.55, "full_hr@10": 0.1,
                          "epochs_run": 9, "seconds": 600} for s, h in ((1, 0.75), (2, 0.77)))]}}
    write_report(amazon_only, doc)
    again = doc.read_text()
    assert "## Findings of the source write-ups" in again and "0.7600 ± 0.0141" in again
    assert "jobtrail evaluate --preset sasrec" in again and again.count("## Amazon Games") == 1
    machine_readable = json.loads((tmp_path / "docs" / "evaluation.json").read_text())
    assert machine_readable["amazon_games"]["models"]["transformer"]["hr@10"] == pytest.approx(0.76)
    assert machine_readable["amazon_games"]["preset"] == "sasrec" and machine_readable["minutes"] == 30.0
    assert machine_readable["datasets"]["synthetic"]["preset"] == "small"  # kept from the earlier run


def test_differences_inside_the_seed_noise_are_not_findings():
    rows = [_row("mean-w32", 1, 0.60, 0.0), _row("mean-w32", 2, 0.70, 0.0),     # sd 0.0707
            _row("decay-w32", 1, 0.62, 0.0), _row("decay-w32", 2, 0.70, 0.0),    # sd 0.0566; Δ +0.01
            _row("cnn-w32", 1, 0.50, 0.0), _row("cnn-w32", 2, 0.51, 0.0)]        # far below decay
    verdicts = {f["claim"]: f["verdict"] for f in findings(
        summarize(rows, "d"), base_window=32, windows=(8, 32), window_model="cnn", ablation_model="transformer",
        retrieval_variant="transformer-w32-retrieval0.5")}
    assert verdicts["decay > mean (test AUC)"] == "within noise"
    assert verdicts["CNN > decay at a third of the storage"] == "not reproduced"
    assert verdicts["monotonic gains with window length (cnn)"] == "n/a"
