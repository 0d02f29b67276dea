"""Features: ``silver/daily`` -> ``gold/features``, one row per household-day."""
