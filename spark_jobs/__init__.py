"""One module per Spark job: pure ``DataFrame → DataFrame`` transforms plus a thin ``main()``.

Every job runs as ``spark-submit spark_jobs/<job>.py ...`` and through the ``jobtrail`` CLI with the same
arguments; the session comes from :mod:`spark_jobs.session`. :data:`JOBS` lists them, once: the ``jobtrail``
command's subcommands and the DAGs' ``SparkSubmitOperator`` applications are read from it. Importing this
package imports nothing (no pyspark).
"""

JOBS: dict[str, str] = {
    "ingest": "validate raw events of one day or a range of days into the clean events table",
    "job_table": "build the job side table from a catalogue snapshot",
    "timelines": "sessionized per-user timelines over a date range",
    "examples": "training sequences (default) or sliding-window examples",
    "user_state": "fold the clean events into the per-user timeline state of a date",
    "inference_inputs": "each user's latest events before a cutoff",
    "infer": "user embeddings of one as-of date into the Delta feature table",
    "monitor": "check a feature-table partition; fail on NaNs, low coverage, drift",
}
"""Module (``spark_jobs/<module>.py``) → what it does; the command is the module's name with dashes
(``jobtrail job-table``). ``generate`` (the synthetic data at scale) runs through ``jobtrail generate --engine
spark``."""


def command(module: str) -> str:
    """The ``jobtrail`` subcommand of a job module: ``job_table`` → ``job-table``."""
    return module.replace("_", "-")
