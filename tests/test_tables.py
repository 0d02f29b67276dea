"""Table writes: whole-table overwrite of a derived table whose columns changed between versions, and
the row counts Delta records for them, and replace_where into a new table."""
import pytest
from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import types as T

from energy_anomaly import tables
from energy_anomaly.errors import EnergyAnomalyError

pytestmark = pytest.mark.spark

OLD = T.StructType([T.StructField("household_id", T.StringType(), False), T.StructField("a", T.DoubleType(), True)])
NEW = T.StructType([
    T.StructField("household_id", T.StringType(), False),
    T.StructField("a", T.DoubleType(), True),
    T.StructField("b", T.DoubleType(), True),
])


def test_overwrite_rebuilds_a_table_an_older_version_wrote_and_keeps_not_null(spark, warehouse):
    tables.overwrite(spark.createDataFrame([("MAC1", 1.0)], OLD), warehouse, "gold/t", OLD)
    path = tables.overwrite(spark.createDataFrame([("MAC1", 1.0, 2.0)], NEW), warehouse, "gold/t", NEW)
    table = spark.read.format("delta").load(path)
    assert table.schema == NEW and [tuple(r) for r in table.collect()] == [("MAC1", 1.0, 2.0)]
    with pytest.raises(Exception, match="(?i)null"):
        spark.createDataFrame([(None, 1.0, 1.0)], "household_id string, a double, b double").write.format("delta").mode("append").save(path)


def test_overwrite_with_the_same_columns_is_one_commit(spark, warehouse):
    frame = spark.createDataFrame([("MAC1", 1.0, 2.0)], NEW)
    path = tables.overwrite(frame, warehouse, "gold/t", NEW)
    before = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").count()
    tables.overwrite(frame, warehouse, "gold/t", NEW)
    assert spark.sql(f"DESCRIBE HISTORY delta.`{path}`").count() == before + 1


def test_rows_written_refuses_a_commit_delta_recorded_no_row_count_for(spark, warehouse):
    frame = spark.createDataFrame([("MAC1", 1.0)], OLD)
    path = tables.overwrite(frame, warehouse, "gold/t", OLD)
    assert tables.rows_written(spark, path) == 1
    with tables.session_conf(spark, tables.HISTORY_METRICS, "false"):
        tables.overwrite(frame, warehouse, "gold/t", OLD)
    with pytest.raises(EnergyAnomalyError, match=tables.HISTORY_METRICS):
        tables.rows_written(spark, path)


def test_replace_where_appends_to_a_table_it_creates_and_replaces_afterwards(spark, warehouse):
    def write(rows, by_construction):
        frame = spark.createDataFrame(rows, OLD)
        return tables.replace_where(frame, warehouse, "bronze/t", OLD, "household_id = 'MAC1'", rows_match_by_construction=by_construction)

    path = write([("MAC1", 1.0), ("MAC1", 2.0)], True)
    assert (tables.last_commit_metrics(spark, path)["numOutputRows"], last_mode(spark, path)) == (2, "Append")
    write([("MAC1", 3.0)], True)
    assert last_mode(spark, path) == "Overwrite"
    assert [r.a for r in spark.read.format("delta").load(path).collect()] == [3.0]
    # Rows that must be checked against the predicate go through replaceWhere even into a new table.
    with pytest.raises(AnalysisException, match="DELTA_REPLACE_WHERE_MISMATCH"):
        tables.replace_where(spark.createDataFrame([("MAC2", 1.0)], OLD), warehouse, "bronze/u", OLD, "household_id = 'MAC1'")


def last_mode(spark, path) -> str:
    return DeltaTable.forPath(spark, path).history(1).first()["operationParameters"]["mode"]
