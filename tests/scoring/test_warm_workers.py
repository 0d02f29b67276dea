"""A long-running update keeps its Python workers warm between batches: Spark ends a worker idle for
a minute, and the next batch would wait for new ones to start, import and load the bundle."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from energy_anomaly.scoring.stage import KEEP_WARM_GROUP, ship_bundle, warm_workers, workers_kept_warm
from energy_anomaly.session import cores

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def bundles_in_workers(spark, shipped: str, forget: bool = False) -> list[tuple[int, bool]]:
    """(process id, bundle loaded) of the Python worker of each of one task per core, run at once;
    with ``forget``, each worker first drops the bundles it holds (as a new worker has none)."""

    def report(batches):
        from energy_anomaly.scoring import stage

        if forget:
            stage._BUNDLES.clear()
        for _ in batches:
            pass
        yield pd.DataFrame({"pid": [os.getpid()], "loaded": [shipped in stage._BUNDLES]})

    slots = cores(spark)
    rows = spark.range(0, slots, 1, slots).mapInPandas(report, "pid long, loaded boolean", barrier=True).collect()
    return [(r.pid, r.loaded) for r in rows]


def test_every_worker_has_the_bundle_loaded_after_the_warm_up(spark, scored):
    _, trained, _ = scored
    shipped = ship_bundle(spark, trained.path)
    assert not any(loaded for _, loaded in bundles_in_workers(spark, shipped, forget=True))
    warm_workers(spark, shipped)
    found = bundles_in_workers(spark, shipped)
    assert len({pid for pid, _ in found}) == cores(spark)  # one worker per core
    assert all(loaded for _, loaded in found)


def test_the_warm_up_runs_between_batches_and_stops_with_the_update(spark, scored):
    _, trained, _ = scored
    tracker = spark.sparkContext.statusTracker()
    before = set(tracker.getJobIdsForGroup(KEEP_WARM_GROUP))
    with workers_kept_warm(spark, trained.path, every_s=0.2):
        deadline = time.monotonic() + 60
        while len(set(tracker.getJobIdsForGroup(KEEP_WARM_GROUP)) - before) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    ran = set(tracker.getJobIdsForGroup(KEEP_WARM_GROUP)) - before
    assert len(ran) >= 2
    time.sleep(1.0)
    assert set(tracker.getJobIdsForGroup(KEEP_WARM_GROUP)) - before == ran  # none after the update ended
