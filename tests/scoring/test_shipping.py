"""How scoring gets the bundle to the workers: a bundle on a Unity Catalog Volume is read in place
(every Databricks node mounts /Volumes), any other is shipped as a zip."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_anomaly.scoring.stage import on_volume, ship_bundle


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/Volumes/main/energy_anomaly/lake/warehouse/models/v1", True),
        ("/Volumes", False),
        ("/tmp/Volumes/main/x", False),
        ("Volumes/main/x", False),
        ("/dbfs/Volumes/main/x", False),
    ],
)
def test_only_unity_catalog_volume_paths_are_read_in_place(path, expected):
    assert on_volume(path) is expected


def test_a_bundle_on_a_volume_is_not_shipped():
    # No session is touched: the folder itself is what the workers load.
    folder = Path("/Volumes/main/energy_anomaly/lake/warehouse/models/v1")
    assert ship_bundle(None, folder) == str(folder)
