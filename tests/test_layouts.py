"""Layout detection by header (pure Python)."""

import pytest

from energy_anomaly.ingest.layouts import DATASTORE, DATASTORE_3COL, HOUSEHOLDS, KAGGLE, detect_layout


@pytest.mark.parametrize(
    ("header", "layout"),
    [
        ("LCLid,tstp,energy(kWh/hh)", KAGGLE),
        ("LCLid,tstp,energy(kWh/hh)\r\n", KAGGLE),
        ("\ufeffLCLid,tstp,energy(kWh/hh)", KAGGLE),
        ("LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped", DATASTORE),
        ("LCLid,DateTime,KWH/hh (per half hour) ", DATASTORE_3COL),
        ("LCLid,stdorToU,Acorn,Acorn_grouped,file", HOUSEHOLDS),
    ],
)
def test_known_headers_are_detected(header, layout):
    assert detect_layout(header) is layout


@pytest.mark.parametrize("header", ["", "id,time,value", "LCLid,tstp", "LCLid,tstp,energy(kWh/hh),extra"])
def test_unknown_headers_are_not_guessed(header):
    assert detect_layout(header) is None
