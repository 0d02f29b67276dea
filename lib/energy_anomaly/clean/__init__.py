"""Clean: ``bronze/readings`` -> ``silver/readings`` (regular half-hourly grid) -> ``silver/daily``."""
