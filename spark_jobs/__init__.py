"""One module per Spark job: pure ``DataFrame → DataFrame`` transforms plus a thin ``main()``.

Every job runs as ``spark-submit spark_jobs/<job>.py ...`` and through the ``jobtrail`` CLI with the same
arguments; the session comes from :mod:`spark_jobs.session`.
"""
