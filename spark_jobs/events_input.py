"""Reading a platform's event export, as it is, before any mapping: Parquet, JSON lines or CSV.

:func:`read_inputs` gives one frame per input layout with the columns as read, ``_source_file`` (the file each
row came from) and, where a line does not parse, ``_corrupt_record``; CSV files are grouped by their own header
(a folder with two layouts is mapped per layout) and the unterminated last line of a truncated file is marked
(``_unterminated``). :mod:`spark_jobs.ingest` maps, validates and writes these rows; :mod:`spark_jobs.catalog_input`
reads a catalogue export through the same functions.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobtrail.errors import DataContractError
from spark_jobs.ingest_config import IngestConfig

UNTERMINATED = "_unterminated"
SOURCE_FILE, CORRUPT = "_source_file", "_corrupt_record"


def read_inputs(spark: SparkSession, paths: Sequence[str], *, config: IngestConfig) -> list[tuple[str, DataFrame]]:
    """Every input's rows, one frame per layout, each with the files it holds: ``(source, frame)``.

    Parquet and JSON inputs are one frame each (Parquet schemas merged). CSV files are read by their own
    header: files sharing a header form one frame, so a folder holding two layouts is mapped per layout
    instead of read by position under the first file's header.
    """
    frames = []
    for path in paths:
        if config.format != "csv":
            frames.append((path, read_input(spark, path, config=config)))
            continue
        by_header: dict[tuple[str, ...], list[CsvFile]] = {}
        for file in csv_files(spark, path, config=config):
            by_header.setdefault(file.header, []).append(file)
        if not by_header:
            frames.append((path, spark.createDataFrame([], f"{SOURCE_FILE} string")))
        for header, files in by_header.items():
            source = files[0].path if len(files) == 1 else f"{len(files)} files of {path} like {files[0].path}"
            frames.append((source, read_csv(spark, files, base=path, config=config)))
    return frames


@dataclass(frozen=True)
class CsvFile:
    """One CSV data file: its path, header and — when it does not end in a line break — its last line's fields
    (a truncated export: that row is ``malformed_row`` if it fails any rule)."""

    path: str
    header: tuple[str, ...]
    unterminated: tuple[str, ...] | None = None


def csv_files(spark: SparkSession, path: str, *, config: IngestConfig) -> list[CsvFile]:
    """Every data file under ``path`` (a file, folder or glob; any Hadoop file system, compressed files
    decompressed) with its header; files whose first line is empty hold no rows and are skipped."""
    check_exists(path)
    jvm, conf = spark._jvm, spark._jsc.hadoopConfiguration()
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(conf)
    codecs = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(conf)
    files = []
    for status in fs.globStatus(hpath) or []:
        if not status.isDirectory():
            files.append(status.getPath())
            continue
        found = fs.listFiles(status.getPath(), True)
        while found.hasNext():
            file = found.next().getPath()
            relative = file.toString()[len(status.getPath().toString()):]
            if not any(part.startswith(("_", ".")) for part in relative.split("/") if part):  # as Spark skips them
                files.append(file)
    out = []
    for file in sorted(files, key=lambda f: f.toString()):
        stream = fs.open(file)
        codec = codecs.getCodec(file)
        if codec is not None:
            stream = codec.createInputStream(stream)
        reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, config.csv.encoding))
        try:
            line = reader.readLine()
        finally:
            reader.close()
        if line and line.strip():
            fields = _csv_fields(line.lstrip("\ufeff"), config)
            header = tuple(fields) if config.csv.header else tuple(f"_c{i}" for i in range(len(fields)))
            tail = None if codec is not None else _unterminated_tail(spark, fs, file, config)
            last = tuple(_csv_fields(tail, config)) if tail and (tail != line or not config.csv.header) else None
            out.append(CsvFile(file.toString(), header, last))
    return out


def _csv_fields(line: str, config: IngestConfig) -> list[str]:
    return next(csv.reader([line], delimiter=config.csv.sep, quotechar=config.csv.quote), [])


def _unterminated_tail(spark: SparkSession, fs, file, config: IngestConfig, *, window: int = 1 << 16) -> str | None:
    """The last line of an uncompressed file that does not end in a line break (else ``None``); reads at most
    the last ``window`` bytes, in one call."""
    size = fs.getFileStatus(file).getLen()
    if size == 0:
        return None
    start = max(0, size - window)
    stream = fs.open(file)
    try:
        stream.seek(start)
        data = bytes(spark._jvm.org.apache.commons.io.IOUtils.toByteArray(stream, size - start))
    finally:
        stream.close()
    if data[-1:] in (b"\n", b"\r"):
        return None
    return data.decode(config.csv.encoding, errors="replace").splitlines()[-1]


def read_csv(spark: SparkSession, files: list[CsvFile], *, base: str, config: IngestConfig) -> DataFrame:
    """CSV ``files`` sharing one header, every column a string, + ``_corrupt_record``, ``_source_file`` and
    ``_unterminated`` (the row is the unterminated last line of its file)."""
    header = files[0].header
    schema = ", ".join(f"`{c.replace('`', '``')}` string" for c in [*header, CORRUPT])
    reader = (spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT)
              .options(**config.csv.reader_options()).schema(schema))
    if Path(base.removeprefix("file:")).is_dir() or "://" in base:  # ds=... folders stay partition columns
        reader = reader.option("basePath", base)
    df = reader.csv([f.path for f in files]).select("*", F.col("_metadata.file_path").alias(SOURCE_FILE))
    last: Column = F.lit(False)
    for f in files:
        if f.unterminated is None:
            continue
        suffix = spark._jvm.org.apache.hadoop.fs.Path(f.path).toUri().getPath()
        same = [_col(c).eqNullSafe(F.lit(v or None)) for c, v in zip(header, f.unterminated)]
        if len(f.unterminated) == len(header):
            last = last | (F.col(SOURCE_FILE).endswith(suffix) & reduce(Column.__and__, same))
    return df.withColumn(UNTERMINATED, last)


def check_exists(path: str) -> None:
    """Raise :class:`DataContractError` when a local ``path`` (not a URI or glob) does not exist."""
    local = "://" not in path and not any(ch in path for ch in "*?[{")  # URIs and globs: Spark checks
    if local and not Path(path.removeprefix("file:")).exists():
        raise DataContractError(f"input path {path} does not exist; check --input (has the day's export landed?)")


def read_input(spark: SparkSession, path: str, *, config: IngestConfig) -> DataFrame:
    """The input rows as read (JSON/CSV lines that do not parse carry ``_corrupt_record``) + ``_source_file``.

    Parquet or JSON lines (CSV: :func:`read_inputs`, one frame per header). A folder without data files gives
    an empty frame; a nonexistent path raises :class:`DataContractError`.
    """
    check_exists(path)
    reader = spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT)
    try:
        if config.format == "parquet":  # merged: a column only some files have is not dropped
            df = reader.option("mergeSchema", "true").parquet(path)
        else:
            df = reader.json(path)
            if df.columns == [CORRUPT]:  # no line parsed; Spark refuses to query only this column
                lines = spark.read.text(path).select(F.col("value").alias(CORRUPT), F.col("_metadata.file_path"))
                return lines.where(F.trim(CORRUPT) != "").withColumnRenamed("file_path", SOURCE_FILE)
    except AnalysisException as e:
        condition = e.getCondition() or ""
        if condition == "UNABLE_TO_INFER_SCHEMA":  # a folder without data files: an empty day
            return spark.createDataFrame([], f"{SOURCE_FILE} string")
        if condition == "PATH_NOT_FOUND":
            raise DataContractError(f"input path {path} does not exist; check --input") from e
        raise DataContractError(f"cannot read {path} as {config.format}: {e}; check --format and --mapping") from e
    except Py4JJavaError as e:  # Spark does not translate a failed schema merge into a Python exception
        message = str(e.java_exception.getMessage())
        if "CANNOT_MERGE_SCHEMAS" not in message:
            raise
        raise DataContractError(
            f"the Parquet files under {path} disagree on the type of column(s) {_type_conflicts(message)}; "
            "re-export the day with one type per column (e.g. ids always as strings)") from e
    return df.select("*", F.col("_metadata.file_path").alias(SOURCE_FILE))


def _type_conflicts(message: str) -> str:
    """``name: TYPE vs TYPE`` per top-level column whose type differs in a CANNOT_MERGE_SCHEMAS message."""
    schemas = [dict(re.findall(r"([^<>,:\s]+): ([A-Z]+)", s)) for s in re.findall(r'"STRUCT<(.*)>"', message)]
    if len(schemas) == 2:
        first, other = schemas
        if conflicts := [f"{c}: {first[c]} vs {other[c]}" for c in first if other.get(c, first[c]) != first[c]]:
            return ", ".join(conflicts)
    return " ".join(message.split())


def _col(name: str) -> Column:
    return F.col("`" + name.replace("`", "``") + "`")
