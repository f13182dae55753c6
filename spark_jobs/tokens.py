"""Hashed token ids, the one definition shared by the job side table and query features.

A token is a lower-cased run of letters/digits; its id is ``pmod(xxhash64(token), buckets) + 1``
(Spark's xxhash64 with its fixed seed 42: the same on every machine and run), so 0 stays free for padding.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

TOKEN_PATTERN = r"[^\p{L}\p{N}]+"


def tokens(text: Column) -> Column:
    """Lower-cased word tokens of ``text`` (empty array for null or blank text)."""
    words = F.split(F.lower(F.coalesce(text, F.lit(""))), TOKEN_PATTERN)
    return F.filter(words, lambda w: w != "")


def token_ids(words: Column, *, buckets: int) -> Column:
    """Hash each string of the array ``words`` to an id in 1..buckets."""
    return F.transform(words, lambda w: (F.pmod(F.xxhash64(w), F.lit(buckets)) + 1).cast("int"))


def pad(ids: Column, *, length: int) -> Column:
    """The first ``length`` ids of ``ids``, padded with 0 to exactly ``length``."""
    return F.slice(F.concat(ids, F.array_repeat(F.lit(0), length)), 1, length)


def query_token_ids(query: Column, *, buckets: int, max_tokens: int) -> Column:
    """Fixed-length hashed token ids of a search query (all 0 for events without a query)."""
    return pad(token_ids(tokens(query), buckets=buckets), length=max_tokens)
