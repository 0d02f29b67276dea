"""The one place that builds the SparkSession.

Embedded default (``spark.master`` in the config, e.g. ``local[2]``): Delta's jars are resolved
from Maven Central through Spark's Ivy resolver into a cache folder once, then read from there.
Under ``spark-submit`` the master, memory and packages given there win; the session only adds
what the job itself needs (Delta extensions, UTC, Arrow). With ``spark.remote`` (or
``SPARK_REMOTE``) it is a Spark Connect client of that server, and on Databricks the runtime's
session (Spark Connect on standard access mode and serverless); either way only SQL settings are
set on it.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from energy_anomaly.config import SparkConfig

logger = logging.getLogger(__name__)

IVY_DIR = Path(os.environ.get("ENERGY_ANOMALY_IVY_DIR", Path.home() / ".cache" / "energy-anomaly" / "ivy"))

# Delta's POM pulls older copies of jars the pyspark package already ships (Jackson 2.13,
# Hadoop 3.4, Parquet 1.16, ...). Two versions of one library on a classpath is a latent
# NoSuchMethodError, so only the Delta/Unity Catalog artifacts themselves are taken.
DELTA_EXCLUDES = (
    "com.fasterxml.jackson.core:jackson-annotations",
    "com.fasterxml.jackson.core:jackson-core",
    "com.fasterxml.jackson.core:jackson-databind",
    "com.github.luben:zstd-jni",
    "com.google.code.findbugs:jsr305",
    "commons-pool:commons-pool",
    "io.airlift:aircompressor",
    "org.apache.hadoop:hadoop-client-api",
    "org.apache.hadoop:hadoop-client-runtime",
    "org.apache.logging.log4j:log4j-api",
    "org.apache.logging.log4j:log4j-core",
    "org.apache.logging.log4j:log4j-slf4j2-impl",
    "org.apache.parquet:parquet-column",
    "org.apache.parquet:parquet-common",
    "org.apache.parquet:parquet-encoding",
    "org.apache.parquet:parquet-format-structures",
    "org.apache.parquet:parquet-hadoop",
    "org.apache.parquet:parquet-jackson",
    "org.locationtech.jts:jts-core",
    "org.roaringbitmap:RoaringBitmap",
    "org.slf4j:slf4j-api",
    "org.xerial.snappy:snappy-java",
)

JOB_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    # LCL timestamps are GMT all year: UTC everywhere, whatever the machine's zone.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Batches to the pandas UDFs are bounded by rows (maxRecordsPerBatch, 10,000) only. Under a
    # byte bound Spark 4 measures the batch after every row it adds, and measuring an array
    # column (profile) walks all of the batch's rows: quadratic, most of the JVM's time in the
    # update's features and scoring steps (JFR). Int.MaxValue is Spark's own "no byte bound".
    "spark.sql.execution.arrow.maxBytesPerBatch": "2147483647",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.debug.maxToStringFields": "200",
    # Spark's default INT96 timestamps are a legacy encoding, and slower to write.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Silver and gold are partitioned by month and written from tasks sorted by household: each
    # task keeps one open file per month (28 for the London period) rather than re-sorting its
    # rows by month, which would cost a sort and lose the household order within the file.
    "spark.sql.maxConcurrentOutputFileWriters": "48",
    # Delta keeps min/max of strings to this many characters: file URIs share long prefixes (the
    # landing folder), and bronze skips files by source_file (32 by default).
    "spark.databricks.io.skipping.stringPrefixLength": "256",
    # Spark compiles the code it generates for a plan and keeps it in an LRU cache, 100 classes by
    # default; one run of the pipeline generates ~450. With 100, a session that runs the same plans
    # again (the update stream's batches, a notebook, the tests' shared session) would compile,
    # load and JIT-compile every class anew each time. Static: set when Spark starts.
    "spark.sql.codegen.cache.maxEntries": "2000",
}


# Static settings a Spark Connect client cannot set: the server is started with them.
SERVER_ONLY_CONF = ("spark.sql.extensions", "spark.sql.catalog.spark_catalog", "spark.sql.codegen.cache.maxEntries")
# What a client may set on its session: Spark SQL's and Delta's runtime settings.
SESSION_CONF_PREFIXES = ("spark.sql.", "spark.databricks.")


def is_connect(spark) -> bool:
    """True for a Spark Connect session (``SparkSession.builder.remote``, Databricks serverless and
    standard access mode): no SparkContext, no JVM in this process."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def connect_url(spark_config: SparkConfig) -> str | None:
    """The Spark Connect server to use: ``spark.remote`` in the config, else ``SPARK_REMOTE``
    (what Databricks and ``pyspark --remote`` set)."""
    return spark_config.remote or os.environ.get("SPARK_REMOTE")


def cores(spark) -> int:
    """Task slots of the session: SparkContext's default parallelism, or on Spark Connect the
    server's ``spark.default.parallelism`` / local master, else the shuffle partitions."""
    if not is_connect(spark):
        return spark.sparkContext.defaultParallelism
    given = spark.conf.get("spark.default.parallelism", None)
    if given:
        return int(given)
    master = spark.conf.get("spark.master", None) or ""
    local = re.fullmatch(r"local\[(\d+|\*)(,\d+)?\]", master)
    if local:
        return (os.cpu_count() or 1) if local.group(1) == "*" else int(local.group(1))
    return int(spark.conf.get("spark.sql.shuffle.partitions"))


def tasks_for(spark, rows: int, rows_per_task: int) -> int:
    """A multiple of the cores: one task a core for up to ``rows_per_task`` rows a task, more
    beyond (pandas tasks whose rows are held in memory at once)."""
    slots = cores(spark)
    return slots * max(1, math.ceil(rows / (slots * rows_per_task)))


MAX_PARTITION_BYTES = "spark.sql.files.maxPartitionBytes"
BYTE_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def byte_size(text: str) -> int:
    """A Spark size setting ("128m", "134217728b", "1g") in bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)b?\s*", text.lower())
    if match is None:
        raise ValueError(f"not a size: {text!r}")
    return int(match.group(1)) * BYTE_UNITS[match.group(2)]


def split_bytes(spark, total_bytes: int) -> int:
    """The split size that reads ``total_bytes`` of splittable files in a multiple of the cores'
    count of equal splits, none larger than ``spark.sql.files.maxPartitionBytes``. Spark's own
    rule packs 300 MB into three 128 MB splits: two rounds on 2 cores, the second with one idle.
    Spark sizes a scan's splits when the query runs: the setting must hold through the action."""
    largest = byte_size(spark.conf.get(MAX_PARTITION_BYTES))
    splits = tasks_for(spark, total_bytes, largest)
    return max(1, math.ceil(total_bytes / splits))


def is_submitted() -> bool:
    """True under spark-submit, or where a launcher already started Spark (Databricks, a notebook)."""
    return SparkContext._active_spark_context is not None or "PYSPARK_GATEWAY_PORT" in os.environ


def _jar_list_file(package: str) -> Path:
    return IVY_DIR / f"resolved-{package.replace(':', '_')}.txt"


def cached_jars(package: str) -> str | None:
    """The jar files an earlier session resolved for ``package``, if they are all still there."""
    listing = _jar_list_file(package)
    if not listing.is_file():
        return None
    jars = listing.read_text().strip()
    paths = [p.removeprefix("file://").removeprefix("file:") for p in jars.split(",") if p]
    return jars if paths and all(Path(p).is_file() for p in paths) else None


def remember_jars(spark: SparkSession, package: str) -> None:
    """Records what Ivy resolved, so later sessions start from the cache without resolving."""
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    if "delta-spark" in jars:
        _jar_list_file(package).write_text(jars)


def delta_jar_conf(package: str) -> dict[str, str]:
    jars = cached_jars(package)
    if jars is not None:
        return {"spark.jars": jars}
    return {
        "spark.jars.packages": package,
        "spark.jars.excludes": ",".join(DELTA_EXCLUDES),
        "spark.jars.ivy": str(IVY_DIR),
    }


def embedded_conf(spark_config: SparkConfig) -> dict[str, str]:
    """Settings for the embedded local session: master, memory, Delta jars, Python workers."""
    conf = {
        "spark.master": spark_config.master or "local[2,3]",
        **delta_jar_conf(spark_config.delta_package),
        "spark.ui.enabled": str(spark_config.ui).lower(),
        # The bar redraws itself with carriage returns: a person at a terminal sees progress, a
        # scheduler's log would get one line of kilobytes per stage.
        "spark.ui.showConsoleProgress": str(sys.stderr.isatty()).lower(),
        # Executors run inside the driver JVM in local mode; the Python workers (pandas UDFs,
        # TensorFlow) live outside it, so the JVM gets a bounded share of the machine.
        "spark.driver.memory": spark_config.driver_memory or "6g",
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }
    return conf


def build_session(spark_config: SparkConfig, jvm_cache_for: str | None = None) -> SparkSession:
    """Build (or return) the session: embedded local by default, as given under spark-submit.
    ``jvm_cache_for`` names a command whose embedded JVM keeps an AOT cache (``jvm_cache``)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Python workers inherit this in local mode: TensorFlow's C++ start-up chatter stays out of the progress output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    builder = SparkSession.builder.appName(spark_config.app_name)
    settings = dict(JOB_CONF)
    if spark_config.shuffle_partitions is not None:
        settings["spark.sql.shuffle.partitions"] = str(spark_config.shuffle_partitions)
    settings.update({key: str(value) for key, value in spark_config.conf.items()})
    if on_databricks():
        return databricks_session(session_settings(settings))
    remote = connect_url(spark_config)
    if remote is not None:
        return connect_session(builder, remote, session_settings(settings))
    if is_submitted():
        # What spark-submit was given (--conf, spark-defaults.conf) wins over the YAML. Its JVM
        # holds those settings: connect to it first, or SparkConf() starts empty.
        SparkContext._ensure_initialized()
        given = SparkConf()
        settings = {key: value for key, value in settings.items() if not given.contains(key)}
    else:
        settings.update(embedded_conf(spark_config))
        if jvm_cache_for is not None and spark_config.jvm_cache:
            with_jvm_cache(settings, jvm_cache_for, spark_config.delta_package)
        logger.info("starting embedded Spark %s with Delta %s", settings["spark.master"], spark_config.delta_package)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    quiet_loggers(spark)
    if "spark.jars.packages" in settings:
        remember_jars(spark, spark_config.delta_package)
    return spark


# Loggers whose warnings repeat without telling the user anything to do. Parquet's MemoryManager
# warns each time a task opens a writer while others are open (a partitioned write opens one per
# partition): dozens of "Scaling row group sizes" lines per clean, drowning the stage's progress.
QUIET_LOGGERS = ("org.apache.parquet.hadoop.MemoryManager",)


def quiet_loggers(spark: SparkSession) -> None:
    """Sets ``QUIET_LOGGERS`` to ERROR in the driver's JVM (the executors' too in local mode)."""
    jvm = spark.sparkContext._jvm
    error = jvm.org.apache.logging.log4j.Level.ERROR
    for name in QUIET_LOGGERS:
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(name, error)


def with_jvm_cache(settings: dict[str, str], command: str, delta_package: str) -> None:
    """Adds the AOT cache's options to the driver JVM's (a no-op below Java 25)."""
    from energy_anomaly import jvm_cache

    cache_plan = jvm_cache.plan(command, delta_package)
    if cache_plan is None:
        return
    jvm_cache.prepare(cache_plan)
    given = settings.get("spark.driver.extraJavaOptions", "")
    settings["spark.driver.extraJavaOptions"] = f"{given} {cache_plan.java_options()}".strip()
    jvm_cache.started(cache_plan)
    logger.info("JVM cache: %s %s", "using" if cache_plan.mode == "use" else "recording for", cache_plan.cache)


def session_settings(settings: dict[str, str]) -> dict[str, str]:
    """The settings a client may set on a running session (Spark SQL's and Delta's); the rest
    (Delta's extensions, the driver's JVM options, memory) belong to whoever started Spark."""
    return {k: v for k, v in settings.items() if k.startswith(SESSION_CONF_PREFIXES) and k not in SERVER_ONLY_CONF}


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def databricks_session(settings: dict[str, str]):
    """The runtime's session (classic on dedicated access mode, Spark Connect on standard access
    mode and serverless); the job's SQL settings are set on it, the cluster's others kept."""
    spark = SparkSession.builder.getOrCreate()
    for key, value in settings.items():
        try:
            spark.conf.set(key, value)
        except Exception as exc:  # serverless refuses most settings; its defaults stand
            logger.info("Databricks kept its %s (%s)", key, str(exc).splitlines()[0][:120])
    return spark


def connect_session(builder, remote: str, settings: dict[str, str]):
    """A Spark Connect session on ``remote`` (``sc://host:port``) with the job's session settings;
    the server was started with Delta's jars and extensions, as Databricks is."""
    logger.info("connecting to Spark Connect at %s", remote)
    builder = builder.remote(remote)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def describe_jobs(spark, text: str | None) -> None:
    """Names the Spark jobs that follow (the Spark UI lists them by it); None clears it. On Spark
    Connect, which has no SparkContext, jobs keep Spark's own names."""
    if spark is None:
        return
    try:
        context = spark.sparkContext
    except Exception:
        return
    context.setJobDescription(text)
