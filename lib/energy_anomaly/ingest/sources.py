"""Input discovery through Hadoop's FileSystem, so local paths, globs, directories and cluster
storage (hdfs://, s3a://, abfss://) go through one code path.

Every problem that can be seen before reading rows is raised here, naming the file, so that no
table is written for a bad input set: missing path, empty file, unknown header, wrong kind of file.
"""

from __future__ import annotations

import gzip
import logging
import re
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from energy_anomaly.config import local_path
from energy_anomaly.errors import InputFileError
from energy_anomaly.ingest.layouts import Layout, detect_layout
from energy_anomaly.session import is_connect

logger = logging.getLogger(__name__)

DATA_SUFFIXES = (".csv", ".csv.gz", ".gz", ".txt")
# Hadoop's glob syntax: a file found on disk is handed to Spark with these escaped, so that
# ``a?.csv`` is read as itself and not also as ``ab.csv``.
COLON_IN_NAME = "file names with ':' cannot be read through Hadoop's file systems; rename the file"
GLOB_CHARACTERS = re.compile(r"([\\*?\[\]{}])")


def glob_escaped(path: str) -> str:
    """``path`` as a Hadoop glob that matches exactly that one file."""
    return GLOB_CHARACTERS.sub(r"\\\1", path)


@dataclass(frozen=True)
class SourceFile:
    path: str  # fully qualified Hadoop path, as given to Spark's readers
    # The same file as Spark reports it in ``_metadata.file_path`` (URL-encoded): its rows' ``source_file``.
    uri: str
    size: int
    layout: Layout


def _hadoop(spark: SparkSession):
    jvm = spark.sparkContext._jvm
    return jvm, spark.sparkContext._jsc.hadoopConfiguration()


def _expand_through_spark(spark: SparkSession, pattern: str) -> list[tuple[str, str, int]]:
    """``_expand`` on Spark Connect (no JVM in this process): Spark lists the files, as its
    ``binaryFile`` source sees them (contents not read). The pattern is read as a glob, and each
    file's URI is the one Spark gives its rows."""
    try:
        listed = (
            spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .load(pattern)
            .select("path", "length")
            .collect()
        )
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc) or "does not exist" in str(exc):
            raise InputFileError(pattern, "no such file or directory") from exc
        raise InputFileError(pattern, f"cannot list ({str(exc).strip().splitlines()[0][:200]})") from exc
    found = []
    for row in listed:
        uri = row["path"]
        name = uri.rstrip("/").rsplit("/", 1)[-1]
        if name.lower().endswith(DATA_SUFFIXES):
            if ":" in urllib.parse.unquote(name):
                raise InputFileError(uri, COLON_IN_NAME)
            found.append((urllib.parse.unquote(uri), uri, int(row["length"])))
    if not found:
        raise InputFileError(pattern, "directory holds no .csv or .csv.gz files")
    return found


def _expand(spark: SparkSession, pattern: str) -> list[tuple[str, str, int]]:
    """The files ``pattern`` names: the path itself where it exists (read literally, whatever
    characters it holds), else the files its glob matches; directories are listed recursively."""
    if is_connect(spark):
        return _expand_through_spark(spark, pattern)
    jvm, conf = _hadoop(spark)
    try:
        path = jvm.org.apache.hadoop.fs.Path(pattern)
    except Exception as exc:  # Hadoop refuses some names outright (``a:b`` reads as a URI scheme)
        raise InputFileError(pattern, f"not a path Hadoop can read ({_java_reason(exc)})") from exc
    fs = path.getFileSystem(conf)
    statuses = [fs.getFileStatus(path)] if fs.exists(path) else fs.globStatus(path)
    if statuses is None or len(statuses) == 0:
        raise InputFileError(pattern, "no such file or directory")
    found = []
    for status in statuses:
        if not status.isDirectory():
            found.append(_described(jvm, status))
            continue
        files = fs.listFiles(status.getPath(), True)
        while files.hasNext():
            child = files.next()
            name = child.getPath().getName()
            if not name.startswith((".", "_")) and name.lower().endswith(DATA_SUFFIXES):
                found.append(_described(jvm, child))
    if not found:
        raise InputFileError(pattern, "directory holds no .csv or .csv.gz files")
    return found


def _described(jvm, status) -> tuple[str, str, int]:
    """Path, URI and size of a Hadoop ``FileStatus``. Spark reports a file by its URI, so a name
    with a space or a ``%`` differs between the two forms (``a b.csv`` -> ``a%20b.csv``). The URI
    is taken from the path's text, as Spark's file listing has it: a glob's path carries an empty
    authority (``file:///x``) that Spark's does not (``file:/x``)."""
    path = status.getPath().toString()
    if ":" in status.getPath().getName():
        # Hadoop's local file system looks for a ``.<name>.crc`` beside each file, and a ``:`` in
        # that name parses as a URI scheme: the read fails inside Spark, after tables were touched.
        raise InputFileError(path, COLON_IN_NAME)
    return path, jvm.org.apache.hadoop.fs.Path(path).toUri().toString(), status.getLen()


def read_first_line(spark: SparkSession, path: str) -> str | None:
    """The first line of a file, decompressing by extension as Spark's readers do."""
    if is_connect(spark):
        return _first_line_through_spark(spark, path)
    jvm, conf = _hadoop(spark)
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    stream = hpath.getFileSystem(conf).open(hpath)
    try:
        codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(conf).getCodec(hpath)
        if codec is not None:
            stream = codec.createInputStream(stream)
        reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
        return reader.readLine()
    except Exception as exc:  # py4j wraps the Java exception; its class name is the reason
        raise InputFileError(path, f"cannot read the header ({_java_reason(exc)})") from exc
    finally:
        stream.close()


def _first_line_through_spark(spark: SparkSession, path: str) -> str | None:
    """``read_first_line`` on Spark Connect: a file this process sees (local disk, a Unity
    Catalog Volume) is opened here; one on remote storage is read by Spark, up to its first line."""
    local = local_path(path)
    if local is not None:
        try:
            opener = gzip.open if local.lower().endswith(".gz") else open
            with opener(local, "rt", encoding="utf-8", errors="replace", newline="") as handle:
                line = handle.readline()
        except (OSError, EOFError) as exc:
            raise InputFileError(path, f"cannot read the header ({type(exc).__name__})") from exc
        return line.rstrip("\r\n") if line else None
    first = spark.read.text(glob_escaped(path)).limit(1).collect()
    return first[0]["value"] if first else None


def _java_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return next((line.strip() for line in text if "Exception" in line), text[0] if text else repr(exc))


def discover(spark: SparkSession, patterns: list[str]) -> list[SourceFile]:
    """Every input file with its layout, sorted by path; raises on the first bad one."""
    if not patterns:
        raise InputFileError("--input", "no input files given")
    seen: dict[str, tuple[str, int]] = {}
    for pattern in patterns:
        seen.update((path, (uri, size)) for path, uri, size in _expand(spark, pattern))
    sources = []
    for path, (uri, size) in sorted(seen.items()):
        if size == 0:
            raise InputFileError(path, "empty file")
        header = read_first_line(spark, path)
        if header is None or not header.strip():
            raise InputFileError(path, "empty file (no header line)")
        layout = detect_layout(header)
        if layout is None:
            raise InputFileError(path, f"unknown header {header.strip()[:80]!r}")
        sources.append(SourceFile(path, uri, size, layout))
    return sources


def group_by_layout(sources: list[SourceFile]) -> dict[Layout, list[str]]:
    groups: dict[Layout, list[str]] = defaultdict(list)
    for source in sources:
        groups[source.layout].append(source.path)
    return dict(groups)
