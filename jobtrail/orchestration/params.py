"""The trigger forms of the three DAGs: typed, validated ``Param``\\ s (JSON schema), in sections.

Airflow validates a run's conf against these schemas when the run is created (UI form, REST API, CLI); the
tasks validate again with :mod:`jobtrail.orchestration.plans`, which also checks what a schema cannot
(calendar dates, ``start < valid_from <= end``, paths resolving inside the data root).
"""

from __future__ import annotations

from typing import Any

from jobtrail.orchestration.plans import (
    AGGREGATORS,
    OBJECTIVES,
    BASELINES,
    DEFAULT_ALIAS,
    DEFAULT_MAX_QUARANTINE_SHARE,
    DEFAULT_MODEL_NAME,
    INPUT_FORMATS,
)
from jobtrail.orchestration.validation import (
    ALIAS_PATTERN,
    DATE_PATTERN,
    MODEL_NAME_PATTERN,
    RELATIVE_PATH_PATTERN,
)


def _date(title: str, description: str, section: str) -> Any:
    from airflow.sdk import Param

    return Param(None, type=["null", "string"], format="date", pattern=DATE_PATTERN, title=title,
                 description=description, section=section)


def _model_name(section: str) -> Any:
    from airflow.sdk import Param

    return Param(DEFAULT_MODEL_NAME, type="string", pattern=MODEL_NAME_PATTERN, minLength=1, maxLength=100,
                 title="Registered model name", section=section,
                 description="MLflow registered model (letters, digits, _ . -; starts with a letter).")


def _catalog(section: str, days: str) -> dict[str, Any]:
    """``catalog`` / ``catalog_mapping`` / ``no_catalog``: where job attributes come from (``job-table``'s flags)."""
    from airflow.sdk import Param

    return {
        "catalog": Param("job_catalog", type="string", pattern=RELATIVE_PATH_PATTERN, maxLength=255,
                         title="Job catalogue", section=section,
                         description=f"Relative to the data root. Without a mapping: catalogue snapshots "
                                     f"(<catalog>/ds=.../*.parquet) on the contract. With one: the export it maps "
                                     f"(a catalogue file or folder, or the events' export carrying job attributes). "
                                     f"{{ds}} becomes {days}."),
        "catalog_mapping": Param(None, type=["null", "string"], pattern=RELATIVE_PATH_PATTERN, maxLength=255,
                                 title="Catalogue mapping (JSON)", section=section,
                                 description="Relative to the data root; see spark_jobs/catalog_input.py."),
        "no_catalog": Param(False, type="boolean", title="No catalogue (id-only jobs)", section=section,
                            description="Every job of the events, without attributes: the model learns an id "
                                        "embedding per job."),
    }


def daily_params() -> dict[str, Any]:
    """Params of ``jobtrail_daily_embeddings``."""
    from airflow.sdk import Param

    run, model, inputs = "Run", "Model", "Inputs (paths relative to the data root)"
    return {
        "ds": _date("Day (ds)", "UTC day whose events are ingested; embeddings are computed as of the next day "
                    "00:00 UTC. Empty: the run's data interval, or yesterday for a manual run.", run),
        "incremental": Param(False, type="boolean", title="Incremental", section=run,
                             description="Recompute only users with new events since the previous day; "
                                         "others are carried forward."),
        "lookback_days": Param(90, type="integer", minimum=1, maximum=730, title="Lookback (days)", section=run,
                               description="Events older than this before the cutoff are ignored."),
        "model_name": _model_name(model),
        "model_alias": Param(DEFAULT_ALIAS, type="string", pattern=ALIAS_PATTERN, title="Model alias",
                             section=model, description="Registry alias to use (champion)."),
        "model_version": Param(None, type=["null", "integer"], minimum=1, maximum=10**9, title="Pin a model version",
                               section=model, description="Empty: the alias above. A number overrides it."),
        "raw_input": Param("raw_events/ds={ds}", type="string", pattern=RELATIVE_PATH_PATTERN, maxLength=255,
                           title="Raw events of the day", section=inputs,
                           description="Folder or file relative to the data root; {ds} becomes the day."),
        "input_format": Param(None, type=["null", "string"], enum=[None, *INPUT_FORMATS], title="Input format",
                              section=inputs, description="Empty: the mapping's, else parquet."),
        "mapping": Param(None, type=["null", "string"], pattern=RELATIVE_PATH_PATTERN, maxLength=255,
                         title="Column mapping (JSON)", section=inputs,
                         description="Relative to the data root; see spark_jobs/ingest_config.py."),
        **_catalog(inputs, "the day"),
    }


def training_params() -> dict[str, Any]:
    """Params of ``jobtrail_training``."""
    from airflow.sdk import Param

    data, model, train, gate = "Data", "Model", "Training", "Evaluation and promotion"
    return {
        "start": _date("First day", "First day of training data. Empty: 28 days before the end.", data),
        "end": _date("Last day", "Last day of training data. Empty: the day before the run.", data),
        "valid_from": _date("Validation from", "Targets from this day on are the validation split. "
                            "Empty: the last 3 days.", data),
        **_catalog(data, "the last day"),
        "window": Param(32, type="integer", minimum=8, maximum=256, title="Window size (W)", section=data,
                        description="Events per example: W-1 context events and the target."),
        "stride": Param(None, type=["null", "integer"], minimum=1, maximum=256, title="Stride", section=data,
                        description="Events between the ends of consecutive training chunks (dense) or between kept "
                                    "targets (next-action). Empty: W-1, chunks that do not overlap (dense), or 1."),
        "negatives_per_positive": Param(1, type="integer", minimum=0, maximum=20, title="Random negatives",
                                        section=data, description="Per trained position (dense) or per positive "
                                                                  "(next-action), for the auxiliary BCE."),
        "objective": Param("dense", type="string", enum=list(OBJECTIVES), title="Training objective", section=model,
                           values_display={"dense": "every position retrieves its next and future-window positives",
                                           "next-action": "one target per window (the seeds' baseline)"}),
        "aggregator": Param("transformer", type="string", enum=list(AGGREGATORS), title="Aggregator", section=model,
                            values_display={"mean": "mean per action type", "decay": "decaying mean",
                                            "cnn": "1-D CNN", "transformer": "unified-timeline transformer",
                                            "multiseq": "multi-sequence transformer"}),
        "embedding_dim": Param(64, type="integer", minimum=8, maximum=512, title="Embedding size (D)", section=model),
        "model_name": _model_name(model),
        "epochs": Param(5, type="integer", minimum=1, maximum=200, title="Epochs", section=train),
        "batch_size": Param(512, type="integer", minimum=8, maximum=65536, title="Batch size", section=train),
        "learning_rate": Param(0.001, type="number", exclusiveMinimum=0, maximum=1, title="Learning rate",
                               section=train),
        "seed": Param(7, type="integer", minimum=0, maximum=2**31 - 1, title="Seed", section=train),
        "baselines": Param([], type="array", items={"type": "string", "enum": list(BASELINES)}, uniqueItems=True,
                           title="Baselines to train for comparison", section=gate,
                           description="Trained on the same examples, reported next to the candidate, never promoted."),
        "min_improvement": Param(0.0, type="number", minimum=0, maximum=1, title="Minimum improvement",
                                 section=gate, description="The candidate must beat the champion's validation "
                                                           "Recall@10 (AUC on windows) by more than this, and the "
                                                           "popularity ranking, to be promoted."),
        "refresh_daily": Param(False, type="boolean", title="Re-run the daily embeddings after a promotion",
                               section=gate, description="Triggers jobtrail_daily_embeddings for the last day."),
    }


def history_params() -> dict[str, Any]:
    """Params of ``jobtrail_history_load``."""
    from airflow.sdk import Param

    run, inputs, catalog = "Range", "Export (paths relative to the data root)", "Job attributes"
    return {
        "start": Param(type="string", format="date", pattern=DATE_PATTERN, title="First day",
                       description="First UTC day of the export to load.", section=run),
        "end": Param(type="string", format="date", pattern=DATE_PATTERN, title="Last day",
                     description="Last UTC day (inclusive). Inference inputs are made as of the next day.",
                     section=run),
        "window": Param(32, type="integer", minimum=8, maximum=256, title="Window size (W)", section=run,
                        description="Events per inference context (W-1); use the window the training will use."),
        "lookback_days": Param(90, type="integer", minimum=1, maximum=730, title="Lookback (days)", section=run,
                               description="Events older than this before the end are not in the inference inputs."),
        "inputs": Param(["raw_events"], type="array", minItems=1, maxItems=20, title="Export files or folders",
                        items={"type": "string", "pattern": RELATIVE_PATH_PATTERN, "maxLength": 255},
                        section=inputs, description="One big file, a folder of files or of ds= folders; several "
                                                    "sources are read together."),
        "input_format": Param(None, type=["null", "string"], enum=[None, *INPUT_FORMATS], title="Input format",
                              section=inputs, description="Empty: the mapping's, else parquet."),
        "mapping": Param(None, type=["null", "string"], pattern=RELATIVE_PATH_PATTERN, maxLength=255,
                         title="Column mapping (JSON)", section=inputs,
                         description="Relative to the data root; see spark_jobs/ingest_config.py."),
        "max_quarantine_share": Param(DEFAULT_MAX_QUARANTINE_SHARE, type="number", minimum=0, maximum=1,
                                      title="Largest quarantined share", section=inputs,
                                      description="Above it the ingest fails (after writing the quarantine), "
                                                  "naming the top reason and the mapping key to check."),
        **_catalog(catalog, "the last day"),
    }
