"""
### jobtrail history load

Brings a platform from its export to the tables the first training and the daily runs read, in one run — before
any model exists. Trigger it from the form with the export's date range, where the export lies (relative to the
data root) and how to read it.

| step | what | runs |
|---|---|---|
| `plan` | validate the form, check the export and mappings exist, fix every path | worker |
| `ingest` | the whole range in one run: map, validate, dedupe, quarantine → `clean_events` (one commit per table) | `spark_jobs/ingest.py` |
| `timelines` | sessionized per-user timelines of the range | `spark_jobs/timelines.py` |
| `job_table` | the job side table of the last day: catalogue snapshots, a mapped catalogue export, the events' own attributes, or id-only jobs | `spark_jobs/job_table.py` |
| `inference_inputs` | each user's latest W−1 events as of the day after the range, and the per-user state the daily runs fold into | `spark_jobs/inference_inputs.py` |
| `summary` | rows read / clean / duplicate / quarantined over the range, users with inputs, the next steps | worker |

**Next.** Trigger `jobtrail_training` with the same `start`, `end` and catalogue options (the summary task's
return value holds them), then `jobtrail_daily_embeddings` runs the days after `end`.

**Safe to re-run.** The ingest replaces exactly the range's days in one commit per table; the other steps replace
their own partitions, so a re-run of the same form leaves every table as one run would. A range overlapping days
already loaded replaces exactly those days.

**Failures** are logged as `jobtrail_history_load: step '<task>' failed ...`; an ingest quarantining more than
`max_quarantine_share` of the export fails after writing the quarantine and names the top reason and the mapping
key to check (`ingest --dry-run` shows samples without writing).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# See dags/jobtrail_daily_embeddings.py: naming the provider here keeps each parse of this file fast.
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator  # noqa: F401
from airflow.sdk import dag, get_current_context, task

from orchestration.params import history_params
from orchestration.runtime import default_args
from orchestration.spark import spark_submit

DAG_ID = "jobtrail_history_load"

DEFAULT_ARGS = default_args(execution_timeout=timedelta(hours=4))


@dag(
    dag_id=DAG_ID,
    dag_display_name="jobtrail: load a history",
    description="A platform's export of a date range → clean events, timelines, job side table, inference inputs.",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=12),
    default_args=DEFAULT_ARGS,
    params=history_params(),
    tags=["jobtrail", "onboarding", "spark"],
)
def jobtrail_history_load():
    @task(multiple_outputs=True, retries=0)
    def plan() -> dict:
        """Validate the form; check the export and the mappings exist (fails at once on bad input: no retries)."""
        from orchestration.history import plan_run

        return plan_run(get_current_context()["params"])

    @task(retries=1)
    def summary(plan: dict) -> dict:
        """Counts over the range, users with inference inputs, and the training DAG's form to trigger next."""
        from orchestration.history import summary as summarise

        return summarise(plan)

    run = plan()
    ingest = spark_submit("ingest", application_args=run["ingest_args"])
    timelines = spark_submit("timelines", application_args=run["timelines_args"])
    job_table = spark_submit("job_table", application_args=run["job_table_args"])
    inputs = spark_submit("inference_inputs", application_args=run["inference_inputs_args"])
    ingest >> timelines >> job_table >> inputs >> summary(run)


jobtrail_history_load()
