"""Detectors: numpy/pandas cores with ``fit`` and ``score``, tested without Spark.

| model | input | score (higher = more anomalous) |
| --- | --- | --- |
| ``isolation_forest`` | household-relative day features | ``-score_samples`` of scikit-learn's IsolationForest |
| ``conv1d_autoencoder`` | the day's 48-slot shape (over its own mean), through a 12 × 2 code | reconstruction MSE against the household's previous 7 days' |
| ``lstm_forecaster`` | the previous 7 days' profiles | forecast error of the day's profile + its level against the household's + its texture against the window's |
| ``ensemble`` | the three scores, each calibrated on clean training scores | mean surprisal ``-log10(1 - ECDF)`` |
"""
MODELS = ("isolation_forest", "conv1d_autoencoder", "lstm_forecaster")
ENSEMBLE = "ensemble"
