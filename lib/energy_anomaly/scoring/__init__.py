"""Scoring: every household-day by every model -> ``gold/anomaly_scores`` and ``gold/anomalies``."""
