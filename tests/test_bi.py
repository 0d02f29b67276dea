"""BI paths: the gold tables read without Spark (DuckDB's Delta reader, the deltalake package),
and every dashboard question runs against real pipeline output and returns rows."""

from __future__ import annotations

import pytest

from energy_anomaly.bi.duckdb import connect, questions, read_with_deltalake
from energy_anomaly.tables import read_table

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def evaluated(spark, scored, tmp_path_factory):
    """The scored warehouse with a gold/metrics run (labels: the 20 highest ensemble scores)."""
    from energy_anomaly.evaluation.stage import run_evaluate
    from tests.conftest import SCORED_END, SCORED_START, label_top_ensemble_days

    warehouse = scored[0]
    labels = label_top_ensemble_days(spark, warehouse, 20, str(tmp_path_factory.mktemp("bi") / "labels"))
    run_evaluate(spark, warehouse, [labels], start=SCORED_START, end=SCORED_END)
    return warehouse


def test_duckdb_reads_the_gold_tables_as_spark_does(spark, evaluated):
    connection = connect(evaluated)
    for view, table in (
        ("scores", "gold/anomaly_scores"),
        ("anomalies", "gold/anomalies"),
        ("metrics", "gold/metrics"),
    ):
        assert (
            connection.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
            == read_table(spark, evaluated, table).count()
            > 0
        )
    by_model = dict(connection.execute("SELECT model, count(*) FROM scores GROUP BY model").fetchall())
    assert by_model == {
        r["model"]: r["count"]
        for r in read_table(spark, evaluated, "gold/anomaly_scores").groupBy("model").count().collect()
    }


def test_deltalake_reads_the_gold_tables(spark, evaluated):
    scores = read_with_deltalake(evaluated, "gold/anomaly_scores")
    assert len(scores) == read_table(spark, evaluated, "gold/anomaly_scores").count()
    assert {"household_id", "day", "model", "score", "threshold", "is_anomaly", "model_version"} <= set(scores.columns)


@pytest.mark.parametrize("name", list(questions()))
def test_dashboard_question_returns_rows(evaluated, name):
    connection = connect(evaluated)
    household = connection.execute("SELECT household_id FROM anomalies ORDER BY day LIMIT 1").fetchone()[0]
    connection.execute(f"SET VARIABLE household_id = '{household}'")
    result = connection.execute(questions()[name])
    rows = result.fetchall()
    assert rows, f"{name} returned no rows"
    assert all(column[0] for column in result.description)


def test_every_question_is_named_and_there_are_the_dashboards_asked_for():
    assert {
        "anomalies_per_day",
        "anomalies_per_week",
        "anomaly_rate_by_acorn_group_and_tariff",
        "top_households_by_anomalous_kwh",
        "model_agreement",
        "household_history",
        "drift_over_time",
    } <= set(questions())
