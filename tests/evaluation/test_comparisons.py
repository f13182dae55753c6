"""Presets, mean ± sd over seeds, the write-ups' verdicts, and the rendered report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from evaluation.comparisons import findings, fmt, summarize
from evaluation.config import SMALL, DatasetSpec, TrainSpec, Variant
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
    assert set(groups) == {"aggregators", "window", "objective", "negatives", "job_ids"}
    assert len(SMALL.variants()) == 5 + 2 + 2 + 1 + 1  # W=32 and the transformer baseline are shared
    assert SMALL.examples_keys() == ["seq-w256", "seq-w32", "seq-w8", "w32"]
    assert Variant("transformer", objective="next-action").name == "transformer-w32-next-action"
    assert Variant("transformer", objective="next-action").examples_key == "w32"
    assert Variant("cnn", 8, negatives="in-batch", job_ids=False).name == "cnn-w8-in-batch-no-ids"
    assert Variant("cnn").is_base and not Variant("cnn", job_ids=False).is_base
    with pytest.raises(ConfigError):
        Variant("cnn", objective="next-action", negatives="in-batch")  # no softmax to take negatives from
    narrow = SMALL.narrowed(datasets=["synthetic"], models=["mean", "cnn"], seeds=2)
    assert [d.name for d in narrow.datasets] == ["synthetic"] and narrow.amazon is None
    assert narrow.seeds == (1, 2) and set(narrow.groups()) == {"aggregators", "window"}
    with pytest.raises(ConfigError):
        SMALL.narrowed(datasets=["imdb"])
    with pytest.raises(ConfigError):
        DatasetSpec("x", "synthetic", date(2026, 1, 1), date(2026, 1, 20), date(2026, 1, 5), date(2026, 1, 10),
                    horizon_days=14)  # the horizon passes the end of the data


def test_variants_build_jobtrail_train_arguments():
    """The preset's TrainSpec and the variant's overrides become TrainArgs directly, checked like the CLI's."""
    from evaluation.runs import variant_overrides
    from tf_models.train import parse_args

    preset = TrainSpec(full_softmax=True)

    def built(variant):
        return preset.train_args(model=variant.model, examples=Path("x"), out=Path("y"), **variant_overrides(variant))

    base = built(Variant("transformer"))
    assert (base.objective, base.future_weight, base.sampled_negatives, base.job_ids) == ("dense", 1.0, 1024, True)
    assert (base.epochs, base.embedding_dim, base.full_softmax) == (preset.epochs, preset.embedding_dim, True)
    cli = parse_args(["--model", "transformer", "--examples", "x", "--out", "y", "--epochs", str(preset.epochs),
                      "--batch-size", str(preset.batch_size), "--embedding-dim", str(preset.embedding_dim),
                      "--d-model", str(preset.d_model), "--layers", str(preset.layers), "--filters",
                      str(preset.filters), "--learning-rate", str(preset.learning_rate), "--patience",
                      str(preset.patience), "--full-softmax"])
    assert built(Variant("transformer")) == cli  # the same arguments as the command line gives
    assert built(Variant("transformer", objective="next-action")).objective == "next-action"
    nxt = built(Variant("transformer", objective="next"))
    assert nxt.objective == "dense" and nxt.future_weight == 0 and nxt.next_weight == 1.0
    in_batch = built(Variant("transformer", negatives="in-batch"))
    assert in_batch.sampled_negatives == 0 and in_batch.full_softmax is False
    assert built(Variant("transformer", job_ids=False)).job_ids is False
    with pytest.raises(ConfigError, match="embedding size D"):
        TrainSpec(embedding_dim=4)  # below the knob's minimum: refused when the preset is declared


def test_summary_is_mean_and_sd_over_seeds():
    rows = [_row("mean-w32", 1, 0.60, 0.01), _row("mean-w32", 2, 0.62, 0.03), _row("mean-w32", 3, 0.64, 0.02),
            {"dataset": "d", "variant": "cnn-w32", "model": "cnn", "seed": 1, "error": "KeyError: x"}]
    s = summarize(rows, "d")
    assert s["mean-w32"]["auc"][:2] == (pytest.approx(0.62), pytest.approx(0.02))
    assert fmt(s["mean-w32"]["auc"]) == "0.6200 ± 0.0200" and fmt(s["cnn-w32"]["auc"]) == "—"


def test_findings_verdicts():
    w = "transformer-w32"
    rows = [_row("mean-w32", 1, 0.60, 0.01, recall=0.10, bytes_=384),
            _row("decay-w32", 1, 0.62, 0.02, recall=0.12, bytes_=384),
            _row("cnn-w32", 1, 0.65, 0.03, recall=0.15, bytes_=128), _row(w, 1, 0.66, 0.04, recall=0.14),
            _row("multiseq-w32", 1, 0.64, 0.02), _row(f"{w}-next-action", 1, 0.70, 0.03, recall=0.05),
            _row(f"{w}-next", 1, 0.66, 0.03, recall=0.12), _row(f"{w}-in-batch", 1, 0.66, 0.03, recall=0.14),
            *[_row(f"cnn-w{x}", 1, 0.6, 0.01, recall=0.10 + i / 100) for i, x in enumerate((8, 16, 64, 128))]]
    rows[-2]["retrieval"]["recall@10"] = 0.16  # W=64 above W=128: not monotone
    verdicts = {f["claim"]: f["verdict"] for f in findings(
        summarize(rows, "d"), base_window=32, windows=(8, 16, 32, 64, 128), window_model="cnn",
        ablation_model="transformer")}
    assert verdicts == {
        "decay > mean": "reproduced",
        "CNN > decay at a third of the storage": "reproduced",
        "transformer > CNN": "not reproduced",
        "unified timeline ≈ 2× the multi-sequence lift": "reproduced",  # 0.04 / 0.02
        "monotonic gains with window length (cnn)": "partly",
        "per-position next-item > one-target BCE (transformer)": "reproduced",  # although its test AUC is lower
        "future window > next-item alone (transformer)": "reproduced",
        "mixed negatives > in-batch only (transformer)": "within noise",
        "job-id embedding > content alone (transformer)": "n/a",
    }


def test_targets_against_popularity_probe_lift_and_freshness():
    from evaluation.comparisons import targets

    rows = [_row("transformer-w32", s, 0.7, lift, recall=r, probe={"probe_accuracy": p})
            for s, lift, r, p in ((1, 0.05, 0.030, 0.80), (2, 0.03, 0.034, 0.76))]
    rows[0]["freshness"]["daily"]["hr@10"] = 0.095  # per-event 0.1: daily loses 2.5% on average
    baseline = {"retrieval": {"recall@10": 0.02, "coverage_p90@10": 0.1}}
    probes = {"latest_category": {"probe_accuracy": 0.72}, "majority_category": {"probe_accuracy": 0.55}}
    verdicts = {t["claim"]: t["verdict"] for t in targets(summarize(rows, "d"), "synthetic", "transformer-w32",
                                                           baseline, probes)}
    assert verdicts == {"Recall@10 ≥ 1.5× popularity, P90 coverage ≥ popularity's": "met",  # 0.032 = 1.6×
                        "downstream lift ≥ +3.5%": "met",  # mean +4%
                        "daily vs per-event refresh loses ≤ 10% of HR@10": "met",
                        "latent-intent probe ≥ the better category baseline": "met"}
    baseline["retrieval"]["coverage_p90@10"] = 0.5  # a popularity-like top 10 does not pass on recall alone
    assert targets(summarize(rows, "d"), "synthetic", "transformer-w32", baseline, probes)[0]["verdict"] == "missed"
    assert [t["verdict"] for t in targets(summarize(rows, "d"), "movielens", "transformer-w32", None, None)] == [
        "met", "met"]  # no popularity row, no probe: only lift and freshness are judged


def test_report_renders_every_section_and_plot(tmp_path):
    from dataclasses import asdict

    from evaluation.report import write_report

    cfg = SMALL.narrowed(datasets=["synthetic", "amazon"], seeds=2)
    rows = [_row(v.name, s, 0.6 + i / 100, 0.01 * i, recall=0.05 + i / 100, probe={"probe_accuracy": 0.5, "career_accuracy": 0.4,
                                                           "career_older_share": 0.2, "probe_users": 9})
            for i, v in enumerate(cfg.variants()) for s in cfg.seeds]
    for r in rows:
        r["dataset"] = "synthetic"
    rows.append({"dataset": "synthetic", "variant": "transformer-w32-in-batch", "model": "transformer", "seed": 3,
                 "error": "KeyError: the optimizer cannot recognize variable score_head/kernel:0"})
    cosine = {"pairs": 3, "bins": [-1.0, 0.0, 1.0], "active_pairs": 1, "active_hist": [0, 1],
              "active_quantiles": {0.05: 0.5, 0.5: 0.6, 0.95: 0.7}, "inactive_pairs": 2, "inactive_hist": [0, 2],
              "inactive_quantiles": {0.05: 1.0, 0.5: 1.0, 0.95: 1.0}}
    info = {"events": 10, "users": 2, "jobs": 5, "seconds": 1.0, "examples": {"seq-w32": {"train": 3, "validation": 1}},
            "spec": {"start": "2026-10-01", "valid_from": "2026-10-25", "cutoff": "2026-11-01",
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
    for heading in ("## Quality targets (transformer)", "## Findings of the source write-ups and the ablations",
                    "### Window length (cnn)", "### Objective (transformer)", "### Softmax negatives (transformer)",
                    "### Job representation (transformer)", "### Freshness",
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
    assert synthetic["probe"] == {**{m: 0.5 for m in cfg.models}, "latest_category": None, "majority_category": 0.8}
    assert "transformer-w32-next-action" in synthetic["variants"] and synthetic["targets"]

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
    write_report(results | {"amazon": None}, doc)  # a run without Amazon keeps the section the sasrec run wrote
    assert doc.read_text().count("0.7600 ± 0.0141") == 1 and "jobtrail evaluate --preset sasrec" in doc.read_text()


def test_differences_inside_the_seed_noise_are_not_findings():
    rows = [_row("mean-w32", 1, 0.6, 0.0, recall=0.10), _row("mean-w32", 2, 0.6, 0.0, recall=0.20),    # sd 0.0707
            _row("decay-w32", 1, 0.6, 0.0, recall=0.12), _row("decay-w32", 2, 0.6, 0.0, recall=0.20),  # Δ +0.01
            _row("cnn-w32", 1, 0.6, 0.0, recall=0.01), _row("cnn-w32", 2, 0.6, 0.0, recall=0.02)]      # far below
    verdicts = {f["claim"]: f["verdict"] for f in findings(
        summarize(rows, "d"), base_window=32, windows=(8, 32), window_model="cnn", ablation_model="transformer")}
    assert verdicts["decay > mean"] == "within noise"
    assert verdicts["CNN > decay at a third of the storage"] == "not reproduced"
    assert verdicts["monotonic gains with window length (cnn)"] == "n/a"
