"""The trigger forms of the three DAGs: typed, validated ``Param``\\ s (JSON schema), in sections.

Airflow validates a run's conf against these schemas when the run is created (UI form, REST API, CLI); the
tasks validate again with :mod:`orchestration.plans`, which also checks what a schema cannot
(calendar dates, ``start < valid_from <= end``, paths resolving inside the data root). Every field has a
description, and a number's or a list's description ends with the range its schema enforces (:func:`bounds`,
written from the same declaration), so the form shows what it will check.
"""

from __future__ import annotations

from typing import Any

from jobtrail.knobs import (
    AGGREGATOR_LABELS,
    AGGREGATORS,
    BASELINES,
    BATCH_SIZE,
    EMBEDDING_DIM,
    EPOCHS,
    LEARNING_RATE,
    LOOKBACK_DAYS,
    OBJECTIVES,
    RANDOM_NEGATIVES,
    SEED,
    WINDOW,
    IntKnob,
    NumberKnob,
)
from jobtrail.rules import ALIAS_PATTERN, DATE_PATTERN, MODEL_NAME_PATTERN, RELATIVE_PATH_PATTERN
from jobtrail.tables import DEFAULT_MAX_QUARANTINE_SHARE
from orchestration.plans import DEFAULT_ALIAS, DEFAULT_MODEL_NAME, INPUT_FORMATS

PATH = {"type": "string", "pattern": RELATIVE_PATH_PATTERN, "maxLength": 255}
"""The schema of a path relative to the data root."""
OPTIONAL_PATH = {**PATH, "type": ["null", "string"]}


def bounds(schema: dict[str, Any]) -> str:
    """What a schema enforces on a number or a list, in words (" Range: 8–256."; empty when nothing)."""
    if "exclusiveMinimum" in schema:
        return f" Range: above {schema['exclusiveMinimum']}, at most {schema['maximum']}."
    if "minimum" in schema and "maximum" in schema:
        return f" Range: {schema['minimum']:,}–{schema['maximum']:,}."
    if "maxItems" in schema:
        return f" At most {schema['maxItems']} items."
    return ""


def _param(*default: Any, description: str, **schema: Any) -> Any:
    """A ``Param`` whose description ends with the range its schema enforces."""
    from airflow.sdk import Param

    return Param(*default, description=description + bounds(schema), **schema)


def _date(title: str, description: str, section: str) -> Any:
    return _param(None, type=["null", "string"], format="date", pattern=DATE_PATTERN, title=title,
                  description="YYYY-MM-DD. " + description, section=section)


def _model_name(section: str) -> Any:
    return _param(DEFAULT_MODEL_NAME, type="string", pattern=MODEL_NAME_PATTERN, minLength=1, maxLength=100,
                  title="Registered model name", section=section,
                  description="MLflow registered model (letters, digits, _ . -; starts with a letter; at most 100).")


def _knob(knob: IntKnob | NumberKnob, title: str, section: str, description: str) -> Any:
    """The Param of a knob: its type, default and bounds (jobtrail/knobs.py)."""
    if isinstance(knob, NumberKnob):
        low = {"exclusiveMinimum": knob.minimum} if knob.above else {"minimum": knob.minimum}
        return _param(knob.default, type="number", **low, maximum=knob.maximum, title=title, section=section,
                      description=description)
    return _param(knob.default, type="integer", minimum=knob.minimum, maximum=knob.maximum, title=title,
                  section=section, description=description)


def _events_input(section: str) -> dict[str, Any]:
    """``input_format`` / ``mapping``: how the export is read (``ingest``'s flags)."""
    return {
        "input_format": _param(None, type=["null", "string"], enum=[None, *INPUT_FORMATS], title="Input format",
                               section=section, description="How the files are read.",
                               values_display={None: "the mapping's (else parquet)", "parquet": "Parquet",
                                               "json": "JSON lines", "csv": "CSV (each file by its own header)"}),
        "mapping": _param(None, **OPTIONAL_PATH, title="Column mapping (JSON)", section=section,
                          description="Relative to the data root; see spark_jobs/ingest_config.py. Empty: the "
                                      "export follows the event contract."),
    }


def _catalog(section: str, days: str) -> dict[str, Any]:
    """``catalog`` / ``catalog_mapping`` / ``no_catalog``: where job attributes come from (``job-table``'s flags)."""
    return {
        "catalog": _param("job_catalog", **PATH, title="Job catalogue", section=section,
                          description=f"Relative to the data root. Without a mapping: catalogue snapshots "
                                      f"(<catalog>/ds=.../*.parquet) on the contract. With one: the export it maps "
                                      f"(a catalogue file or folder, or the events' export carrying job attributes). "
                                      f"{{ds}} becomes {days}."),
        "catalog_mapping": _param(None, **OPTIONAL_PATH, title="Catalogue mapping (JSON)", section=section,
                                  description="Relative to the data root; see spark_jobs/catalog_input.py."),
        "no_catalog": _param(False, type="boolean", title="No catalogue (id-only jobs)", section=section,
                             description="Every job of the events, without attributes: the model learns an id "
                                         "embedding per job."),
    }


def daily_params() -> dict[str, Any]:
    """Params of ``jobtrail_daily_embeddings``."""
    run, model, inputs = "Run", "Model", "Inputs (paths relative to the data root)"
    return {
        "ds": _date("Day (ds)", "UTC day whose events are ingested; embeddings are computed as of the next day "
                    "00:00 UTC. Empty: the run's data interval, or yesterday for a manual run.", run),
        "incremental": _param(False, type="boolean", title="Incremental", section=run,
                              description="Recompute only users with new events since the previous day; "
                                          "others are carried forward."),
        "lookback_days": _knob(LOOKBACK_DAYS, "Lookback (days)", run,
                               "Events older than this before the cutoff are ignored."),
        "model_name": _model_name(model),
        "model_alias": _param(DEFAULT_ALIAS, type="string", pattern=ALIAS_PATTERN, title="Model alias",
                              section=model, description="Registry alias to use (champion)."),
        "model_version": _param(None, type=["null", "integer"], minimum=1, maximum=10**9, title="Pin a model version",
                                section=model, description="Empty: the alias above. A number overrides it."),
        "raw_input": _param("raw_events/ds={ds}", **PATH, title="Raw events of the day", section=inputs,
                            description="Folder or file relative to the data root; {ds} becomes the day."),
        **_events_input(inputs),
        **_catalog(inputs, "the day"),
    }


def training_params() -> dict[str, Any]:
    """Params of ``jobtrail_training``."""
    data, model, train, gate = "Data", "Model", "Training", "Evaluation and promotion"
    return {
        "start": _date("First day", "First day of training data. Empty: 28 days before the end.", data),
        "end": _date("Last day", "Last day of training data. Empty: the day before the run.", data),
        "valid_from": _date("Validation from", "Targets from this day on are the validation split. "
                            "Empty: the last 3 days.", data),
        **_catalog(data, "the last day"),
        "window": _knob(WINDOW, "Window size (W)", data, "Events per example: W-1 context events and the target."),
        "stride": _param(None, type=["null", "integer"], minimum=1, maximum=256, title="Stride", section=data,
                         description="Events between the ends of consecutive training chunks (dense) or between "
                                     "kept targets (next-action). Empty: W-1, chunks that do not overlap (dense), "
                                     "or 1."),
        "negatives_per_positive": _knob(RANDOM_NEGATIVES, "Random negatives", data,
                                        "Per trained position (dense) or per positive (next-action), for the "
                                        "auxiliary BCE."),
        "objective": _param("dense", type="string", enum=list(OBJECTIVES), title="Training objective", section=model,
                            description="What each training example teaches (README, For modellers).",
                            values_display={"dense": "every position retrieves its next and future-window positives",
                                            "next-action": "one target per window (the seeds' baseline)"}),
        "aggregator": _param("transformer", type="string", enum=list(AGGREGATORS), title="Aggregator",
                             section=model, description="How a user's timeline becomes one embedding.",
                             values_display=AGGREGATOR_LABELS),
        "embedding_dim": _knob(EMBEDDING_DIM, "Embedding size (D)", model,
                               "Dimension of the user and job embeddings (the feature table's width)."),
        "model_name": _model_name(model),
        "epochs": _knob(EPOCHS, "Epochs", train,
                        "At most this many passes; early stopping on the validation Recall@10 may end sooner."),
        "batch_size": _knob(BATCH_SIZE, "Batch size", train, "Sequences (dense) or windows (next-action) per "
                                                             "training step."),
        "learning_rate": _knob(LEARNING_RATE, "Learning rate", train, "Adam's step size."),
        "seed": _knob(SEED, "Seed", train, "Seeds the initialisation, shuffling and sampled negatives: the same "
                                           "seed on the same examples trains the same model."),
        "baselines": _param([], type="array", items={"type": "string", "enum": list(BASELINES)}, uniqueItems=True,
                            examples=list(BASELINES), values_display={b: AGGREGATOR_LABELS[b] for b in BASELINES},
                            title="Baselines to train for comparison", section=gate,
                            description=f"Any of {', '.join(BASELINES)}: trained on the same examples, reported next "
                                        f"to the candidate, never promoted; the candidate must beat them."),
        "min_improvement": _param(0.0, type="number", minimum=0, maximum=1, title="Minimum improvement",
                                  section=gate, description="The candidate must beat the champion's validation "
                                                            "Recall@10 (AUC on windows) by more than this, and the "
                                                            "popularity ranking, to be promoted."),
        "refresh_daily": _param(False, type="boolean", title="Re-run the daily embeddings after a promotion",
                                section=gate, description="Triggers jobtrail_daily_embeddings for the last day."),
    }


def history_params() -> dict[str, Any]:
    """Params of ``jobtrail_history_load``."""
    run, inputs, catalog = "Range", "Export (paths relative to the data root)", "Job attributes"
    return {
        "start": _param(type="string", format="date", pattern=DATE_PATTERN, title="First day",
                        description="First UTC day of the export to load, YYYY-MM-DD.", section=run),
        "end": _param(type="string", format="date", pattern=DATE_PATTERN, title="Last day",
                      description="Last UTC day (inclusive), YYYY-MM-DD. Inference inputs are made as of the next "
                                  "day.", section=run),
        "window": _knob(WINDOW, "Window size (W)", run,
                        "Events per inference context (W-1); use the window the training will use."),
        "lookback_days": _knob(LOOKBACK_DAYS, "Lookback (days)", run,
                               "Events older than this before the end are not in the inference inputs."),
        "inputs": _param(["raw_events"], type="array", minItems=1, maxItems=20, title="Export files or folders",
                         items=PATH, section=inputs,
                         description="One big file, a folder of files or of ds= folders; several sources are read "
                                     "together."),
        **_events_input(inputs),
        "max_quarantine_share": _param(DEFAULT_MAX_QUARANTINE_SHARE, type="number", minimum=0, maximum=1,
                                       title="Largest quarantined share", section=inputs,
                                       description="Above it the ingest fails (after writing the quarantine), "
                                                   "naming the top reason and the mapping key to check."),
        **_catalog(catalog, "the last day"),
    }
