"""energy-anomaly: anomalous electricity consumption in smart-meter data, on Spark + Delta Lake.

The package reads like the pipeline: ``ingest`` (raw LCL CSV -> bronze), ``clean`` (bronze ->
silver half-hourly grid and household-days), then features, models, scoring and evaluation.
Nothing here does work at import time.
"""

__version__ = "0.1.0"
