"""Bodies of the daily-embeddings tasks that are not Spark jobs: plan, resolve the model, publish.

Called from ``dags/jobtrail_daily_embeddings.py``; heavy imports (MLflow through ``tf_models.registry``,
``deltalake``) happen inside the functions, at run time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.settings import Settings
from jobtrail.tables import Tables, monitoring_report_name
from orchestration.plans import DailyPlan, daily_plan, run_day

log = logging.getLogger(__name__)


def plan_run(params: Mapping[str, Any], *, data_interval_start: datetime | None, run_after: datetime | None,
             settings: Settings | None = None) -> dict[str, Any]:
    """Validate the params, fix the day and every path; fail early when the day's raw events are missing."""
    settings = settings or Settings.from_env()
    ds = run_day(params.get("ds"), data_interval_start=data_interval_start, run_after=run_after)
    plan = daily_plan(params, ds=ds, data_root=settings.data_root)
    if "://" not in str(plan.raw_input) and not plan.raw_input.exists():
        raise ConfigError(f"no raw events for ds={ds} at {plan.raw_input}: wait for the day's export, or trigger "
                          "with raw_input pointing at it (relative to the data root)")
    log.info("daily run: ds=%s, embeddings as of %s 00:00 UTC, model %s, incremental=%s, data root %s",
             plan.ds, plan.as_of, plan.model_uri, plan.incremental, plan.data_root)
    return plan.to_xcom()


def model_steps(plan: DailyPlan, model_dir: str | Path, model_name: str, model_version: str,
                metadata: Mapping[str, Any], *, run_id: str | None = None) -> dict[str, Any]:
    """Argument lists of every step that depends on the model (pinned to the resolved version).

    ``run_id`` (the Airflow run) is recorded in the Delta commits of inference and monitoring.
    """
    try:
        window = int(metadata["window"])
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"{model_dir}/jobtrail_model.json has no window: export the model with jobtrail train") from e
    query_tokens = metadata.get("query_tokens")
    pinned = f"models:/{model_name}/{model_version}"
    infer = ["--as-of", plan.as_of.isoformat(), "--model", pinned, "--job-table", str(plan.job_table),
             "--mode", "incremental" if plan.incremental else "full", "--data-root", str(plan.data_root)]
    monitor = ["--as-of", plan.as_of.isoformat(), "--model-name", model_name, "--model-version", str(model_version),
               "--model", pinned, "--job-table", str(plan.job_table), "--data-root", str(plan.data_root)]
    if run_id:
        infer += ["--run-id", run_id]
        monitor += ["--run-id", run_id]
    return {
        "model_dir": str(model_dir), "model_name": model_name, "model_version": str(model_version),
        "model_uri": pinned, "window": window, "query_tokens": query_tokens,
        "job_table_args": plan.job_table_args(model_dir),
        "inference_inputs_args": plan.inference_inputs_args(window=window, query_tokens=query_tokens),
        "infer_args": infer, "monitor_args": monitor,
    }


def resolve(plan_xcom: Mapping[str, Any], *, run_id: str | None = None) -> dict[str, Any]:
    """Resolve ``models:/NAME@ALIAS`` (or the pinned version) to a local SavedModel; build the model's steps."""
    from tf_models.registry import resolve_model
    from tf_models.signatures import read_metadata

    plan = DailyPlan.from_xcom(plan_xcom)
    model = resolve_model(plan.model_uri)
    log.info("model %s → %s version %s at %s", plan.model_uri, model.name, model.version, model.path)
    return model_steps(plan, model.path, model.name, model.version, read_metadata(model.path), run_id=run_id)


def feature_rows(table: str | Path, as_of: date, model_name: str, model_version: str) -> dict[str, int]:
    """Rows of one (as_of_date, model) partition of the feature table, read without a JVM."""
    from feature_store.readers import load_features

    rows = load_features(table, model_name=model_name, model_version=str(model_version), as_of_date=as_of,
                         columns=["user_id", "is_fallback"])
    fallback = sum(1 for v in rows.column("is_fallback").to_pylist() if v)
    return {"rows": rows.num_rows, "computed": rows.num_rows - fallback, "fallback": fallback}


MONITORING_FIGURES = ("status", "rows", "users_scored", "carried_forward", "carried_stale", "cold_start",
                      "fallback_share", "active_users", "coverage", "nan_rows", "norm_p50", "cos_median_checked", "sample_cos_p05",
                      "top10_distinct_share", "previous_as_of_date")


def monitoring_report(plan: DailyPlan, model_name: str, model_version: str) -> dict[str, Any]:
    """The figures ``spark_jobs/monitor.py`` wrote for this partition (its ``.json`` report)."""
    name = monitoring_report_name(plan.as_of, model_name, model_version)
    path = plan.data_root / Tables.MONITORING_REPORTS / f"{name}.json"
    try:
        row = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise ConfigError(f"no monitoring report {path}: the monitor step did not run for this partition") from e
    if row.get("status") != "pass":
        raise ConfigError(f"monitoring of {plan.as_of} {model_name} v{model_version} did not pass "
                          f"({row.get('failed_checks')}): not publishing; see {path.with_suffix('.md')}")
    return {k: row.get(k) for k in MONITORING_FIGURES} | {"report": str(path.with_suffix(".md"))}


def publish_extra(plan_xcom: Mapping[str, Any], model: Mapping[str, Any]) -> dict[str, Any]:
    """The Asset event's extra: date, cutoff, model, row counts, table location, monitoring figures."""
    plan = DailyPlan.from_xcom(plan_xcom)
    monitoring = monitoring_report(plan, model["model_name"], str(model["model_version"]))
    counts = feature_rows(plan.feature_table, plan.as_of, model["model_name"], model["model_version"])
    if counts["rows"] == 0:
        raise ConfigError(f"the feature table {plan.feature_table} has no rows for as_of_date={plan.as_of} and "
                          f"{model['model_name']} v{model['model_version']}: nothing to publish; see the infer step")
    return {"ds": plan.ds.isoformat(), "as_of_date": plan.as_of.isoformat(), "model_name": model["model_name"],
            "model_version": str(model["model_version"]), "table": str(plan.feature_table), **counts,
            "incremental": plan.incremental, "monitoring": monitoring}
