"""Run the real ingest job with Spark tasks that fail on their first attempt.

    JOBTRAIL_SPARK_MASTER='local[2,3]' python tests/spark_jobs/flaky_job.py FAILURES_DIR <spark_jobs.ingest args>

The input (:func:`spark_jobs.events_input.read_input`) is passed through an identity ``mapInArrow``
(:func:`fail_first_attempt`) that raises in the first attempt of partition 0 of every stage that reads it,
after touching ``FAILURES_DIR/stage<id>-task<id>``. With ``local[N,3]`` (3 = ``spark.task.maxFailures``)
Spark retries those tasks and the job must succeed with the output of a run without failures. The function
lives in ``__main__``, so cloudpickle ships it by value to the Python workers. Prints the job's counts (JSON).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FAILURES = Path(sys.argv[1]).resolve()


def fail_first_attempt(batches):
    """Identity on Arrow batches, except in the first attempt of partition 0: it raises."""
    from pyspark import TaskContext

    ctx = TaskContext.get()
    if ctx.partitionId() == 0 and ctx.attemptNumber() == 0:
        (FAILURES / f"stage{ctx.stageId()}-task{ctx.taskAttemptId()}").touch()
        raise RuntimeError(f"injected failure: first attempt of partition 0 of stage {ctx.stageId()}")
    yield from batches


def main(argv: list[str]) -> int:
    from spark_jobs import events_input, ingest
    from spark_jobs.session import create_session

    read_input = events_input.read_input

    def flaky_input(spark, path, *, config):
        df = read_input(spark, path, config=config)
        return df.mapInArrow(fail_first_attempt, df.schema)

    events_input.read_input = flaky_input  # what ingest.run reads through (events_input.read_inputs)
    spark = create_session("jobtrail-flaky-tasks")
    print(json.dumps({"job": "ingest", **ingest.run(spark, ingest.parse_args(argv))}), flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[2:]))
