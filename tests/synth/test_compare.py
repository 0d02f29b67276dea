"""The comparison's arithmetic (pure Python)."""

import pytest

from energy_anomaly.synth.compare import Stats, distances, profile_distance, relative


def test_relative_and_profile_distances():
    assert relative(11.0, 10.0) == pytest.approx(0.1)
    assert profile_distance([1.0, 3.0], [2.0, 2.0]) == pytest.approx(0.5)


def test_distances_rows():
    real = Stats(10, (1.0, 8.0, 20.0), {"winter": [1.0, 1.0]}, 1.0, 0.02)
    gen = Stats(10, (1.1, 8.0, 18.0), {"winter": [1.0, 1.2]}, 0.9, 0.03)
    rows = {name: d for name, _, _, d in distances(real, gen)}
    assert rows["daily kWh q5"] == pytest.approx(0.1)
    assert rows["daily kWh q95"] == pytest.approx(0.1)
    assert rows["winter mean profile (L1)"] == pytest.approx(0.1)
    assert rows["weekday/weekend ratio"] == pytest.approx(0.1)
    assert rows["share of zero readings"] == pytest.approx(0.01)
