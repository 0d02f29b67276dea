"""Delta tables: where they live, how they are read, and the checked writers.

Tables live at ``<warehouse>/<layer>/<name>``; ``energy_anomaly.catalog`` declares each one (name,
schema, layout). Writers compare the frame with the declared schema and raise
``SchemaMismatchError`` before writing anything.
Every write is one Delta commit, so a failed job leaves the table as it was.
"""

from __future__ import annotations

import fcntl
import logging
import random
import re
import shutil
import time
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from energy_anomaly.catalog import DEFAULT_STATS_COLUMNS, MODELS_FOLDER, Table
from energy_anomaly.config import local_path
from energy_anomaly.errors import (
    ConcurrentWriteError,
    EnergyAnomalyError,
    MissingTableError,
    SchemaMismatchError,
    StaleTableError,
)
from energy_anomaly.session import is_connect

logger = logging.getLogger(__name__)


def table_path(warehouse: str, table: Table | str) -> str:
    """Where ``table`` (a catalogue entry, or a folder name such as ``models``) lives. A warehouse
    path with a backtick is refused: Delta's table builder quotes the path into an identifier
    without escaping it."""
    table = table.name if isinstance(table, Table) else table
    if "`" in warehouse:
        raise EnergyAnomalyError(
            f"warehouse {warehouse!r}: a path with a backtick (`) cannot hold Delta tables; rename it"
        )
    if "://" in warehouse or warehouse.startswith("file:"):
        return f"{warehouse.rstrip('/')}/{table}"
    return str(Path(warehouse).resolve() / table)


def models_dir(warehouse: str) -> Path:
    """``<warehouse>/models``: one folder per trained bundle, and ``LATEST``."""
    return Path(table_path(warehouse, MODELS_FOLDER))


def table_exists(spark: SparkSession, path: str) -> bool:
    """Whether ``path`` holds a Delta table. On Spark Connect, where Delta's Python API needs a
    Delta Connect server plugin, through SQL: the history's latest entry."""
    if not is_connect(spark):
        return DeltaTable.isDeltaTable(spark, path)
    try:
        last_history_entry(spark, path)
    except AnalysisException:
        return False
    return True


def table_detail(spark: SparkSession, path: str) -> Row:
    """``DESCRIBE DETAIL``: format, numFiles, properties, description, ... (SQL, so it also runs
    on Spark Connect without Delta's Connect plugin)."""
    return spark.sql(f"DESCRIBE DETAIL {path_identifier(path)}").first()


def table_properties(spark: SparkSession, path: str) -> dict[str, str]:
    """The table's properties (``delta.*``, CHECK constraints), from its metadata alone:
    ``DESCRIBE DETAIL`` would also add up every file's size, which on bronze/readings took ~4 s
    of each daily update against ~0.6 s for this."""
    return {row["key"]: row["value"] for row in spark.sql(f"SHOW TBLPROPERTIES {path_identifier(path)}").collect()}


def last_history_entry(spark: SparkSession, path: str) -> Row:
    """The latest commit's history row (version, operation, operationMetrics, ...)."""
    return spark.sql(f"DESCRIBE HISTORY {path_identifier(path)} LIMIT 1").first()


def read_table(spark: SparkSession, warehouse: str, table: Table | str) -> DataFrame:
    """A table by its catalogue entry or its name (``gold/anomaly_scores``)."""
    path = table_path(warehouse, table)
    if not table_exists(spark, path):
        name = table.name if isinstance(table, Table) else table
        raise MissingTableError(f"table {name} not found under {warehouse}: run the stage that writes it first")
    return spark.read.format("delta").load(path)


def require_current(df: DataFrame, table: Table, stage: str) -> DataFrame:
    """``df`` (the table as read), refused in one line if an older version wrote it without columns
    the catalogue now declares: its rows lack what this version computes from them (a feature
    the detectors read), and only ``stage`` can fill them in for the rows already written."""
    missing = [name for name in table.schema.fieldNames() if name not in df.columns]
    if missing:
        raise StaleTableError(
            f"{table.name} was written by an older version, without {', '.join(missing)}: "
            f"run `energy-anomaly {stage}` to rebuild it"
        )
    return df


def without_nullability(data_type: T.DataType) -> T.DataType:
    """The type with every nested nullable flag set: nullability is Delta's to enforce (NOT NULL
    columns), not a reason to refuse an array whose elements happen to be non-null."""
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(without_nullability(data_type.elementType), True)
    if isinstance(data_type, T.MapType):
        return T.MapType(without_nullability(data_type.keyType), without_nullability(data_type.valueType), True)
    if isinstance(data_type, T.StructType):
        return T.StructType([T.StructField(f.name, without_nullability(f.dataType), True) for f in data_type.fields])
    return data_type


def read_table_or_empty(spark: SparkSession, warehouse: str, table: Table) -> DataFrame:
    """The table, or an empty frame of its schema where no stage has written it (optional inputs)."""
    path = table_path(warehouse, table)
    return (
        spark.read.format("delta").load(path) if table_exists(spark, path) else spark.createDataFrame([], table.schema)
    )


def check_schema(df: DataFrame, schema: T.StructType, table: str) -> DataFrame:
    """The frame with columns in the declared order; raises if names or types differ."""
    actual = {f.name: without_nullability(f.dataType) for f in df.schema.fields}
    expected = {f.name: without_nullability(f.dataType) for f in schema.fields}
    if actual != expected:
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        wrong = sorted(n for n in set(actual) & set(expected) if actual[n] != expected[n])
        raise SchemaMismatchError(
            f"{table}: schema mismatch (missing {missing}, unexpected {extra}, wrong type {wrong})"
        )
    return df.select(*schema.fieldNames())


def sql_string(text: str) -> str:
    """A SQL string literal of one of the catalogue's own texts (comments, property values)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quoted_columns(names) -> str:
    """Column names as a DDL list: ``(`a`, `b`)``."""
    return "(" + ", ".join(f"`{name}`" for name in names) + ")"


def column_sql(table: Table, field: T.StructField) -> str:
    """A column's DDL: quoted name, type, NOT NULL, the catalogue's comment."""
    comment = table.comment(field.name)
    return f"`{field.name}` {field.dataType.simpleString()}{'' if field.nullable else ' NOT NULL'}" + (
        f" COMMENT {sql_string(comment)}" if comment else ""
    )


def create_table_sql(path: str, table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS`` of ``table`` at ``path``: columns with types, NOT NULL and
    comments, partitioning, description, statistics columns, Change Data Feed and CHECK
    constraints. Every text in it is the catalogue's own (no input, no flag); the path is a
    quoted identifier (``path_identifier``). A CHECK constraint is the table property
    ``delta.constraints.<name>``: set here it is in the table's first commit (ALTER TABLE ... ADD
    CONSTRAINT would add a commit per constraint, racing concurrent creators and writers)."""
    wanted = table.stats_columns or DEFAULT_STATS_COLUMNS
    stats = [name for name in table.schema.fieldNames() if name in wanted] or table.schema.fieldNames()[:1]
    columns = ",\n  ".join(column_sql(table, f) for f in table.schema)
    properties = {"delta.dataSkippingStatsColumns": ",".join(stats)}
    if table.change_data_feed:
        properties[CHANGE_DATA_FEED] = "true"
    properties.update({f"delta.constraints.{name}": expression for name, expression in table.checks})
    partitioned = f"PARTITIONED BY {quoted_columns(table.partition_by)}\n" if table.partition_by else ""
    listed = ", ".join(f"{sql_string(k)} = {sql_string(v)}" for k, v in properties.items())
    return (
        f"CREATE TABLE IF NOT EXISTS {path_identifier(path)} (\n  {columns}\n) USING delta\n"
        f"{partitioned}COMMENT {sql_string(table.description)}\nTBLPROPERTIES ({listed})"
    )


def ensure_table(spark: SparkSession, path: str, table: Table) -> None:
    """Creates the empty table with its declared schema (NOT NULL columns enforced by Delta), its
    partitioning, statistics columns, comments and CHECK constraints; a table that exists keeps
    what it was created with, plus the declared columns it lacks (``add_missing_columns``)."""
    statement = create_table_sql(path, table)
    # Two jobs creating one table at once: the loser's commit conflicts, or it finds the folder
    # the winner is filling ("not empty"); on the retry the table exists and this does nothing.
    retry_conflicts(lambda: spark.sql(statement), table.name, path, also=(CREATE_RACE,))
    add_missing_columns(spark, path, table)


def add_missing_columns(spark: SparkSession, path: str, table: Table) -> None:
    """A table written before a column was declared gets it (nullable, at the end, where the
    catalogue declares new columns), in one ``ALTER TABLE ... ADD COLUMNS`` commit; its rows read
    it as null until they are written again."""
    present = set(spark.read.format("delta").load(path).schema.fieldNames())
    missing = [f for f in table.schema if f.name not in present]
    if not missing:
        return
    if any(not f.nullable for f in missing):
        raise EnergyAnomalyError(f"{table.name}: cannot add NOT NULL columns to a table written before them")
    statement = f"ALTER TABLE {path_identifier(path)} ADD COLUMNS ({', '.join(column_sql(table, f) for f in missing)})"
    logger.info("%s: adding column(s) %s", table.name, ", ".join(f.name for f in missing))
    try:
        retry_conflicts(lambda: spark.sql(statement), table.name, path)
    except Exception as exc:  # a concurrent writer added them first
        if "already exist" not in str(exc).lower():
            raise


CHANGE_DATA_FEED = "delta.enableChangeDataFeed"
CONSTRAINT_NAME = re.compile(r"[a-z][a-z0-9_]*")
# A catalogue expression: column names, numbers, comparisons and AND/OR/BETWEEN/IS NULL.
CONSTRAINT_EXPRESSION = re.compile(r"[A-Za-z0-9_ .<>=+\-]+")


def ensure_checks(spark: SparkSession, path: str, table: Table) -> None:
    """Brings an existing table's CHECK constraints to the declared ones (a table created before a
    constraint was declared, or with another ingest bound): each differing one is dropped and
    added again, and Delta refuses the ADD if a row already in the table breaks it. Names and
    expressions are the catalogue's own, checked against plain patterns (Spark's DDL takes no
    parameter markers); the path is a quoted identifier.

    Two ingests into a new warehouse can both get here: one's ALTER conflicts with the other's
    commit, and on the retry it reads the constraints the other set and has nothing left to do."""
    retry_conflicts(lambda: _ensure_checks(spark, path, table), table.name, path, also=CREATE_IN_FLIGHT)


def _ensure_checks(spark: SparkSession, path: str, table: Table) -> None:
    properties = table_properties(spark, path)
    for name, expression in table.checks:
        if properties.get(f"delta.constraints.{name}", "").strip().lower() == expression.strip().lower():
            continue
        if not (CONSTRAINT_NAME.fullmatch(name) and CONSTRAINT_EXPRESSION.fullmatch(expression)):
            raise ValueError(f"not a CHECK constraint this project declares: {name!r} {expression!r}")
        # Checked before the DROP, so a refused bound leaves the table with the constraint it had.
        breaking = spark.read.format("delta").load(path).where(~F.expr(expression)).limit(1).count()
        if breaking:
            raise EnergyAnomalyError(
                f"{table.name}: rows already in the table break the CHECK constraint {name} ({expression})"
            )
        identifier = path_identifier(path)
        spark.sql(f"ALTER TABLE {identifier} DROP CONSTRAINT IF EXISTS {name}")
        spark.sql(f"ALTER TABLE {identifier} ADD CONSTRAINT {name} CHECK ({expression})")


PROPERTY_KEY = re.compile(r"delta\.[A-Za-z][A-Za-z0-9.]*")
PROPERTY_VALUE = re.compile(r"[A-Za-z0-9]+")


def set_property(spark: SparkSession, path: str, key: str, value: str) -> None:
    """A Delta table property, set in one commit. Spark's SQL takes no parameter markers in
    ``TBLPROPERTIES``, so key and value are the project's own constants, checked against plain
    patterns; the path is a quoted identifier (``path_identifier``)."""
    if not (PROPERTY_KEY.fullmatch(key) and PROPERTY_VALUE.fullmatch(value)):
        raise ValueError(f"not a Delta table property this project sets: {key!r} = {value!r}")
    with commit_lock(path):
        spark.sql(f"ALTER TABLE {path_identifier(path)} SET TBLPROPERTIES ('{key}' = '{value}')")


def has_change_data_feed(spark: SparkSession, path: str) -> bool:
    properties = table_properties(spark, path)
    return properties.get(CHANGE_DATA_FEED, "false").lower() == "true"


def same_columns(actual: T.StructType, declared: T.StructType) -> bool:
    """Same column names and types, in order (nullability aside)."""
    return [(f.name, f.dataType.simpleString()) for f in actual] == [
        (f.name, f.dataType.simpleString()) for f in declared
    ]


def overwrite(df: DataFrame, warehouse: str, table: Table) -> str:
    """Replaces the whole table with ``df`` in one commit. The table is derived and rebuilt
    whole, so its schema follows the code: a table an older version wrote with other columns is
    dropped and rebuilt with the declared schema (its history goes with it), not refused."""
    path = table_path(warehouse, table)
    checked = check_schema(df, table.schema, table.name)
    spark = df.sparkSession
    if table_exists(spark, path) and not same_columns(spark.read.format("delta").load(path).schema, table.schema):
        logger.warning(
            "%s: written by another version with other columns; rebuilding it with the declared schema", table.name
        )
        delete_path(spark, path)
    ensure_table(spark, path, table)
    retry_conflicts(lambda: checked.write.format("delta").mode("overwrite").save(path), table.name, path)
    return path


def delete_path(spark: SparkSession, path: str) -> None:
    """Removes a folder on any Hadoop file system (local, HDFS, object stores); on Spark Connect
    (no JVM here), a folder this process sees (local disk, a Unity Catalog Volume)."""
    if is_connect(spark):
        local = local_path(path)
        if local is None:
            raise EnergyAnomalyError(f"{path}: cannot remove a folder on remote storage through Spark Connect")
        shutil.rmtree(local, ignore_errors=True)
        return
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(hadoop_path, True)


REPLACE_WHERE_ROW_CHECK = "spark.databricks.delta.replaceWhere.constraintCheck.enabled"


def path_identifier(path: str) -> str:
    """The table at ``path`` as a Spark identifier (``delta.`<path>```): a backtick-quoted name,
    with backticks doubled, is read as one literal name part; it is never parsed as SQL."""
    return "delta.`" + path.replace("`", "``") + "`"


def replace_where(
    df: DataFrame,
    warehouse: str,
    table: Table,
    condition: Column,
    rows_match_by_construction: bool = False,
    commit_tag: str | None = None,
) -> str:
    """Replaces exactly the rows matching ``condition`` with ``df`` in one commit (idempotent re-runs).

    ``condition`` is a ``Column`` built from column references and literal values (``F.col(...)
    .isin(files)``, ``F.col("run_id") == F.lit(run_id)``): values from input files and flags stay
    values, never SQL text, so no name can change what is replaced. The write is Delta's
    ``DataFrameWriterV2.overwrite(condition)``.

    Delta checks every written row against the condition and fails the write on the first that
    does not match. A caller whose rows match by construction (ingest: each row's ``source_file``
    is the file it was read from, and the condition lists those files in the same form) turns
    that per-row check off for its write.

    Even into a table this call created, the write replaces rather than appends: a blind append
    is not checked against concurrent writers, so two ingests of one file racing to a new table
    would both add its rows; the overwrite conflicts with the other writer's commit instead and
    is run again on the new snapshot (``retry_conflicts``).

    ``commit_tag`` goes into the commit's ``userMetadata``, which finds it in the history
    (``replace_counted``).
    """
    path = table_path(warehouse, table)
    checked = check_schema(df, table.schema, table.name)
    if table.one_file_per_write:
        checked = checked.repartition(1)  # a shuffle: what computes the rows keeps its tasks
    spark = df.sparkSession
    ensure_table(spark, path, table)
    row_check = session_conf(spark, REPLACE_WHERE_ROW_CHECK, "false") if rows_match_by_construction else nullcontext()
    with row_check:
        # A table another job is creating this instant can look created (its log folder is there)
        # before its first commit lands: the write then finds no table, and is tried again.
        writer = checked.writeTo(path_identifier(path))
        if commit_tag is not None:
            writer = writer.option("userMetadata", commit_tag)
        retry_conflicts(lambda: writer.overwrite(condition), table.name, path, also=CREATE_IN_FLIGHT)
    return path


@dataclass(frozen=True)
class Written:
    """A write's own commit, found in the table's history by its tag."""

    path: str
    version: int | None  # None: the write committed nothing (no rows to remove or add)
    rows: int  # rows it wrote, as Delta recorded them (``commit_rows``)


# How far back a write looks for its own commit: other writers' commits may have landed after it.
OWN_COMMIT_LOOKBACK = 20


def replace_counted(
    df: DataFrame, warehouse: str, table: Table, condition: Column, rows_match_by_construction: bool = False
) -> Written:
    """``replace_where``, then its commit's version and row count from one read of the history:
    the commit carries a tag of its own, so neither a version read before the write nor a
    concurrent writer's later commit is taken for it."""
    tag = f"energy-anomaly:{uuid.uuid4().hex}"
    path = replace_where(df, warehouse, table, condition, rows_match_by_construction, commit_tag=tag)
    history = df.sparkSession.sql(f"DESCRIBE HISTORY {path_identifier(path)} LIMIT {OWN_COMMIT_LOOKBACK}")
    for row in history.collect():
        if row["userMetadata"] == tag:
            return Written(path, row["version"], commit_rows(path, row_counts(row)))
    return Written(path, None, 0)


def delete_where(spark: SparkSession, warehouse: str, table: Table, condition: Column) -> str:
    """``replace_where`` with no rows: removes exactly the rows matching ``condition``, with no write
    job. A table that does not exist yet is created empty; one with no matching rows gets no commit."""
    path = table_path(warehouse, table)
    if not table_exists(spark, path):
        ensure_table(spark, path, table)
    elif is_connect(spark):
        # Delta's delete API needs the Delta Connect plugin: an overwrite by condition with no rows.
        empty = spark.createDataFrame([], table.schema)
        retry_conflicts(lambda: empty.writeTo(path_identifier(path)).overwrite(condition), table.name, path)
    else:
        retry_conflicts(lambda: DeltaTable.forPath(spark, path).delete(condition), table.name, path)
    return path


# Delta's optimistic concurrency: a commit that lost a race with another writer of the same table
# raises one of these (delta.exceptions); the write is idempotent (it replaces by condition), so
# it is run again on the new snapshot.
CONFLICTS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "DELTA_CONCURRENT_APPEND",
    "DELTA_CONCURRENT_DELETE_READ",
    "DELTA_CONCURRENT_DELETE_DELETE",
    "DELTA_CONCURRENT_TRANSACTION",
    "DELTA_METADATA_CHANGED",
    "DELTA_PROTOCOL_CHANGED",
)
CONFLICT_RETRIES = 5
CREATE_RACE = "DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION"
CREATE_IN_FLIGHT = ("DELTA_TABLE_NOT_FOUND", "doesn't exist")


def is_conflict(exc: BaseException, also: tuple[str, ...] = ()) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return any(name in text for name in CONFLICTS + also)


# Lock files this process holds: a block inside another on the same table runs as part of the
# outer one (a second flock of the same file from this process would wait for itself forever).
_HELD_LOCKS: set[str] = set()


@contextmanager
def commit_lock(path: str | None):
    """The block's commits to the table at ``path`` made by one process at a time, where the table
    is on this machine's file system.

    On ``file:`` paths Delta's commit is a check that the version's log entry is free, then a rename
    through Hadoop's local file system (with its ``.crc`` side file), which nothing arbitrates
    between processes: two processes committing one version can both "succeed", the second
    replacing the first's entry (a commit silently lost) or pairing it with the other's checksum
    file (a log Delta can no longer read, as two concurrent first ingests did here). Object stores
    and Databricks have log stores that arbitrate; here an exclusive ``flock`` on a file beside the
    table does. Where no lock file can be made (a path this process only names, a file system
    without ``flock``), the block runs without one."""
    local = local_path(path) if path else None
    table = Path(local) if local is not None else None
    lock_file = str(table.parent / f".{table.name}.commit-lock") if table is not None else None
    if lock_file is None or lock_file in _HELD_LOCKS:
        yield
        return
    handle = None
    try:
        table.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_file, "a")  # held open across the yield below
        fcntl.flock(handle, fcntl.LOCK_EX)
    except OSError:  # not writable from here (a Connect client's view of the server's path), no flock
        if handle is not None:
            handle.close()
        logger.debug("%s: no lock file here; committing without one", lock_file)
        yield
        return
    _HELD_LOCKS.add(lock_file)
    try:
        yield
    finally:
        _HELD_LOCKS.discard(lock_file)
        handle.close()  # closing releases the flock


def retry_conflicts(
    write, table: str, path: str | None = None, retries: int = CONFLICT_RETRIES, also: tuple[str, ...] = ()
):
    """Runs ``write`` (under ``commit_lock(path)``); a commit that conflicts with a concurrent
    writer (or fails with one of the ``also`` error names) is tried again, with a growing,
    jittered pause, then reported in one line naming the table."""
    for attempt in range(retries + 1):
        try:
            with commit_lock(path):
                return write()
        except Exception as exc:  # py4j and pyspark wrap Delta's exceptions differently
            if not is_conflict(exc, also):
                raise
            if attempt == retries:
                raise ConcurrentWriteError(
                    f"{table}: another job kept changing the table; gave up after {retries + 1} attempts "
                    "(run again when the other job has finished)"
                ) from exc
            pause = min(30.0, 0.5 * 2**attempt) * (0.5 + random.random())
            logger.info("%s: a concurrent writer committed first; writing again in %.1f s", table, pause)
            time.sleep(pause)
    return None


@contextmanager
def session_conf(spark: SparkSession, key: str, value: str):
    """``key`` set to ``value`` for the block, then back to what it was (or unset)."""
    before = spark.conf.get(key, None)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


# Delta records a commit's row counts only while this is on (its default).
HISTORY_METRICS = "spark.databricks.delta.history.metricsEnabled"


def table_version(spark: SparkSession, path: str) -> int | None:
    """The table's latest version, or None where there is no table yet."""
    if not table_exists(spark, path):
        return None
    return last_history_entry(spark, path)["version"]


def rows_written(spark: SparkSession, path: str) -> int:
    """Rows the latest commit wrote (not counting rows it copied from files it rewrote), as Delta
    recorded them: for a whole-table ``overwrite``, which always commits. The stages account for
    their rows with it, so a commit without the count is an error, not zero rows. A write by
    condition may leave no commit at all (nothing to remove or add): ``replace_counted`` finds
    its own commit, or none, rather than reading an earlier one's count as its own."""
    _, operation, metrics = last_commit(spark, path)
    if operation == "CREATE TABLE":  # ensure_table's empty table
        return 0
    return commit_rows(path, metrics)


def commit_rows(path: str, metrics: dict[str, int]) -> int:
    """Rows a commit wrote, from the metrics Delta recorded for it."""
    if (
        "numOutputRows" not in metrics
        and metrics
        and metrics.get("numFiles", 0) == 0
        and metrics.get("numOutputBytes", 0) == 0
    ):
        return 0
    if "numOutputRows" not in metrics:
        raise EnergyAnomalyError(
            f"{path}: Delta recorded no row count for the last commit, so its rows cannot be accounted for "
            f"(is {HISTORY_METRICS} set to false? it must stay true)"
        )
    # A replace by condition rewrites the files it touches: rows it copied from them are not new.
    return metrics["numOutputRows"] - metrics.get("numCopiedRows", 0)


def last_commit(spark: SparkSession, path: str) -> tuple[int, str, dict[str, int]]:
    """The latest commit's version, operation and the row counts Delta recorded for it (no pass
    over the data)."""
    row = last_history_entry(spark, path)
    return row["version"], row["operation"], row_counts(row)


def row_counts(history_row: Row) -> dict[str, int]:
    """The numeric metrics Delta recorded in a history row (``operationMetrics`` holds strings)."""
    metrics = history_row["operationMetrics"] or {}
    return {key: int(v) for key, v in metrics.items() if str(v).isdigit()}


def last_commit_metrics(spark: SparkSession, path: str) -> dict[str, int]:
    """Row counts Delta recorded for the latest commit."""
    return last_commit(spark, path)[2]
