"""
### jobtrail training

Trains a user-embedding model on a date range of activity and promotes it to `champion` only when it beats the
popularity ranking, the baselines chosen in the form and the current champion on the same validation data. Weekly (Monday 03:00 UTC) and on demand from the form.

| step | what | runs |
|---|---|---|
| `plan` | validate the form; the date range, the examples and model folders | worker |
| `timelines` | sessionized per-user timelines over `start..end` | `spark_jobs/timelines.py` |
| `job_table` | job side table of the `end` snapshot (fresh vocabulary), next to the examples | `spark_jobs/job_table.py` |
| `examples` | sliding windows (W, stride), random negatives, time split at `valid_from` | `spark_jobs/examples.py` |
| `train` | `jobtrail train`: fit, export a SavedModel, log and register it in MLflow | the launcher |
| `train_baselines` | the baselines chosen in the form, on the same examples (not registered) | the launcher |
| `candidate` | read the run's `result.json` (same file whatever the launcher) | worker |
| `promote` | `jobtrail promote`: score candidate, champion, popularity and the baselines on the validation split; move the alias only if the candidate beats them all | worker |
| `report` | one table: candidate, champion, baselines; the promotion decision | worker |
| `trigger_daily` | optional: re-run the daily embeddings for `end` with the new champion | worker |

**Launcher** (`JOBTRAIL_TRAIN_LAUNCHER`): `local` runs `jobtrail train` as a process on the worker (the embedded
default, CPU); `kubernetes` starts a pod on `JOBTRAIL_TRAIN_IMAGE` with `JOBTRAIL_TRAIN_GPUS` × `nvidia.com/gpu`,
tolerations and node selector from configuration; `docker` starts a container with GPU device requests.
A retried training task resumes from the run folder's checkpoint.

Default range: the 28 days ending the day before the run, the last 3 of them for validation.
Failures are logged as `jobtrail_training: step '<task>' failed ...` with the reason and a link to the log.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# The dag-processor pre-imports a DAG file's `airflow.*` imports once, in its long-lived parent process: naming the
# Spark provider here keeps each parse of this file fast (the operators themselves come from orchestration).
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator  # noqa: F401
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from jobtrail.settings import Settings
from orchestration.launchers import training_task
from orchestration.params import training_params
from orchestration.runtime import default_args
from orchestration.spark import spark_submit

DAG_ID = "jobtrail_training"
DAILY_DAG_ID = "jobtrail_daily_embeddings"

DEFAULT_ARGS = default_args(execution_timeout=timedelta(hours=3))
training_retries = {"retries": 1, "retry_delay": timedelta(minutes=5)}


@dag(
    dag_id=DAG_ID,
    dag_display_name="jobtrail: training",
    description="Build examples, train an aggregator, promote it when it beats the champion.",
    doc_md=__doc__,
    schedule=CronTriggerTimetable("0 3 * * 1", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=24),
    default_args=DEFAULT_ARGS,
    params=training_params(),
    tags=["jobtrail", "training", "spark", "tensorflow", "mlflow"],
)
def jobtrail_training():
    @task(multiple_outputs=True, retries=0)
    def plan() -> dict:
        """Validate the form; fix the date range and the folders of this run (fails at once on bad input)."""
        from orchestration.training import plan_run

        context = get_current_context()
        return plan_run(context["params"], run_after=context["dag_run"].run_after, run_id=context["run_id"])

    @task(retries=1)
    def candidate(plan: dict) -> dict:
        """The trained model's result.json: registered version and validation metrics."""
        from orchestration.training import candidate as read_candidate

        return read_candidate(plan)

    @task(retries=1, execution_timeout=timedelta(hours=2), trigger_rule="none_failed")
    def promote(plan: dict, candidate: dict) -> dict:
        """Score candidate, champion, popularity and the baselines on the same validation split; move `champion`
        only if the candidate beats them all (none chosen: the mapped baselines are skipped)."""
        from orchestration.training import promote as run_gate

        context = get_current_context()
        return run_gate(plan, candidate, context["params"], context["dag_run"].run_after, context["run_id"])

    @task(trigger_rule="none_failed", retries=0)
    def report(plan: dict, candidate: dict, promotion: dict) -> dict:
        """Candidate, champion and baselines side by side; the promotion decision."""
        from orchestration.training import report as build_report

        return build_report(plan, candidate, promotion)

    @task(retries=0)
    def baseline_runs(plan: dict) -> list:
        """One `jobtrail train` argument list per baseline chosen in the form (none: the mapped step is skipped)."""
        return plan["baseline_args"]

    @task.short_circuit(retries=0)
    def refresh_requested(promotion: dict) -> bool:
        """Continue to `trigger_daily` only when the form asked for it and a new champion was promoted."""
        from orchestration.training import should_refresh

        return should_refresh(get_current_context()["params"], promotion)

    run = plan()
    data_root = Settings.from_env().data_root
    timelines = spark_submit("timelines", application_args=run["timelines_args"])
    job_table = spark_submit("job_table", application_args=run["job_table_args"])
    examples = spark_submit("examples", application_args=run["examples_args"])
    train = training_task("train", run["train_args"], data_root=data_root, **training_retries)
    baselines = training_task("train_baselines", baseline_runs(run), data_root=data_root, mapped=True,
                              **training_retries)
    timelines >> job_table >> examples >> [train, baselines]

    chosen = candidate(run)
    train >> chosen
    promotion = promote(run, chosen)
    baselines >> promotion
    summary = report(run, chosen, promotion)
    trigger = TriggerDagRunOperator(
        task_id="trigger_daily",
        trigger_dag_id=DAILY_DAG_ID,
        conf={"ds": run["end"]},
        logical_date=None,
        wait_for_completion=False,
        retries=0,
    )
    summary >> refresh_requested(promotion) >> trigger


jobtrail_training()
