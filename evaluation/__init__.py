"""The evaluation harness: ``jobtrail evaluate`` trains configurations on a time split and measures them.

Modules: :mod:`~evaluation.config` (presets), :mod:`~evaluation.datasets` (preparation with the Spark jobs),
:mod:`~evaluation.timelines` / :mod:`~evaluation.embedder` (contexts, SavedModel signatures),
:mod:`~evaluation.retrieval` (retrieval, freshness, day-over-day cosine), :mod:`~evaluation.downstream`
(downstream lift), :mod:`~evaluation.probes` (latent-intent probes), :mod:`~evaluation.runs` (one run),
:mod:`~evaluation.comparisons` (mean ± sd, the write-ups' findings), :mod:`~evaluation.sasrec` (Amazon Games),
:mod:`~evaluation.report` / :mod:`~evaluation.plots` (docs/evaluation.md), :mod:`~evaluation.results_json`
(docs/evaluation.json), :mod:`~evaluation.eval_args` / :mod:`~evaluation.cli` (the command).
Metric definitions live in :mod:`tf_models.metrics`, shared with the promotion gate.
"""
