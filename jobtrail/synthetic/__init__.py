"""Synthetic job-seeker data: the embedded default dataset of the demo, the tests and the benchmarks.

``occupations`` holds the vocabulary, ``catalog`` the job catalogue, ``behaviour`` the users and their
events, ``generate`` the single-process writer (``jobtrail generate``); ``spark_jobs.generate`` runs the
same per-user code on Spark executors for large data. Every user's events are a pure function of
(seed, user index), so the output is identical whatever the partitioning.
"""
