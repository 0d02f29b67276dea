"""Ingest: raw LCL CSV files -> ``bronze/readings``, ``bronze/quarantine``, ``silver/households``."""
