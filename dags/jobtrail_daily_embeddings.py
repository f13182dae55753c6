"""
### jobtrail daily embeddings

Turns one day of job-seeker activity into one embedding per user in the Delta feature table
`<data root>/user_embeddings` and publishes it as the Airflow Asset **`jobtrail_user_embeddings`**.

| step | what | runs |
|---|---|---|
| `plan` | validate the form, fix the day `ds` and every path | worker |
| `ingest` | validate, map, dedupe and quarantine the day's raw events → `clean_events` | `spark_jobs/ingest.py` |
| `resolve_model` | `models:/<name>@<alias>` (or the pinned version) → a local SavedModel | worker (MLflow) |
| `job_table` | the `ds` catalogue snapshot's job side table, with the model's vocabulary | `spark_jobs/job_table.py` |
| `inference_inputs` | each user's latest ≤ W−1 events before the cutoff | `spark_jobs/inference_inputs.py` |
| `infer` | batch inference → feature table partition `as_of_date` = `ds` + 1 | `spark_jobs/infer.py` |
| `monitor` | coverage, NaNs, norms, day-over-day cosine, staleness | `spark_jobs/monitor.py` |
| `publish` | Asset event with date, model version, rows and monitoring figures | worker |

**The day.** `ds` is the UTC day whose events are ingested; embeddings are computed *as of* `ds + 1` 00:00 UTC
(every event of `ds` counts). Without a `ds` in the form, the run's data interval decides (the scheduled run
after midnight processes the day before); a manual run without a logical date processes yesterday.

**Safe to retry and re-run.** Every write replaces exactly the run's partition (`ds`, or `as_of_date` and the
model version), so retries and re-runs of a day leave the tables as one clean run would. Backfill with
`airflow backfill create --dag-id jobtrail_daily_embeddings --from-date ... --to-date ...`.

**Paused when created**, on purpose: switched on, the scheduler starts with the latest interval (yesterday),
and on data that does not reach yesterday — `make demo`'s days, a history loaded for a trial — that run fails at
`plan` ("no raw events for ds=..."). On such data, trigger the days the data has (the form's `ds`, or a backfill);
switch the DAG on once new days arrive every day.

**Failures** are logged as `jobtrail_daily_embeddings: step '<task>' failed ...` with the reason and a link
to the task's log; a Spark step's error ends with the last lines of `spark-submit`'s output.
Spark runs on the `spark_default` connection (`local[2]` unless `AIRFLOW_CONN_SPARK_DEFAULT` says otherwise).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# The dag-processor pre-imports a DAG file's `airflow.*` imports once, in its long-lived parent process: naming the
# Spark provider here keeps each parse of this file fast (the operators themselves come from orchestration).
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator  # noqa: F401
from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task

from orchestration.assets import feature_table_asset
from orchestration.params import daily_params
from orchestration.runtime import default_args
from orchestration.spark import spark_submit

DAG_ID = "jobtrail_daily_embeddings"
FEATURE_TABLE = feature_table_asset()

DEFAULT_ARGS = default_args(execution_timeout=timedelta(hours=2))


@dag(
    dag_id=DAG_ID,
    dag_display_name="jobtrail: daily user embeddings",
    description="Ingest a day of activity, embed every user, publish the feature table.",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 1 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=8),
    default_args=DEFAULT_ARGS,
    params=daily_params(),
    tags=["jobtrail", "embeddings", "spark", "feature-store"],
)
def jobtrail_daily_embeddings():
    @task(multiple_outputs=True, retries=0)
    def plan() -> dict:
        """Validate the form and fix the day and every path (fails at once on bad input: no retries)."""
        from orchestration.daily import plan_run

        context = get_current_context()
        return plan_run(context["params"], data_interval_start=context.get("data_interval_start"),
                        run_after=context["dag_run"].run_after)

    @task(multiple_outputs=True)
    def resolve_model(plan: dict) -> dict:
        """Resolve the registry alias to one SavedModel version; every later step uses that version."""
        from orchestration.daily import resolve

        return resolve(plan, run_id=f"{DAG_ID}/{get_current_context()['run_id']}")

    @task(outlets=[FEATURE_TABLE], retries=1)
    def publish(plan: dict, model: dict) -> dict:
        """Publish the feature table partition as an Asset event (date and model version in its extra)."""
        from orchestration.daily import publish_extra

        context = get_current_context()
        extra = publish_extra(plan, model)
        context["outlet_events"][FEATURE_TABLE].extra = extra
        return extra

    run = plan()
    model = resolve_model(run)
    ingest = spark_submit("ingest", application_args=run["ingest_args"])
    job_table = spark_submit("job_table", application_args=model["job_table_args"])
    inputs = spark_submit("inference_inputs", application_args=model["inference_inputs_args"])
    infer = spark_submit("infer", application_args=model["infer_args"], execution_timeout=timedelta(hours=4))
    # A failed check is a verdict on the data, not a glitch: one retry covers a lost executor, no more.
    monitor = spark_submit("monitor", application_args=model["monitor_args"], retries=1)
    ingest >> job_table >> inputs >> infer >> monitor >> publish(run, model)


jobtrail_daily_embeddings()
