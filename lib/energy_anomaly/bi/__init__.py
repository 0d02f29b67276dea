"""Reading the gold tables without Spark: DuckDB over Delta, deltalake, and the dashboard questions."""
