"""Detectors: numpy/pandas cores with ``fit`` and ``score``, tested without Spark.

| model | input | score (higher = more anomalous) |
| --- | --- | --- |
| ``isolation_forest`` | household-relative day features | ``-score_samples`` of scikit-learn's forest |
| ``conv1d_autoencoder`` | the day's shape (48 slots over their mean) | reconstruction MSE vs the last 7 days' |
| ``lstm_forecaster`` | the previous 7 days' profiles | forecast error, level and texture vs the window |
| ``ensemble`` | its members' (the forest's) scores, calibrated on training | mean surprisal ``-log10(1 - ECDF)`` |
"""
