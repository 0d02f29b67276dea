"""Each detector's core, without Spark: fits on clean real days, ranks injected days higher."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from energy_anomaly.models.autoencoder import AutoencoderDetector
from energy_anomaly.models.ensemble import Calibration, ensemble_score, threshold
from energy_anomaly.models.inputs import day_windows
from energy_anomaly.models.isolation_forest import IsolationForestDetector
from energy_anomaly.models.lstm import LstmForecaster
from tests.models.conftest import TEST_START


def split(days):
    clean, injected, labels = days
    train = clean[(pd.to_datetime(clean["day"]).dt.date < TEST_START) & clean["is_complete"]].reset_index(drop=True)
    test = injected[(pd.to_datetime(injected["day"]).dt.date >= TEST_START)].reset_index(drop=True)
    kind = {(h, d): k for h, d, k in zip(labels["household_id"], labels["day"], labels["anomaly_type"])}
    types = np.array([kind.get((h, d), "") for h, d in zip(test["household_id"], test["day"])])
    return train, test, types, test["is_complete"].to_numpy(bool)


def auc_for(types, scores, complete, kinds):
    """AUC of the given anomaly types against clean days (other types left out)."""
    selected = complete & ((types == "") | np.isin(types, kinds))
    return roc_auc_score(np.isin(types[selected], kinds), scores[selected])


# What each model is built to see, with margins below what was measured on these rows
# (IF 0.93 overall; AE spike + h5 0.92; LSTM outage + spike + h5 0.94). Flat days (h5) are caught
# by the AE's "reconstructs too well" side and the LSTM's texture term.
@pytest.mark.parametrize(
    ("detector", "kinds", "min_auc"),
    [
        (lambda: IsolationForestDetector(seed=1), None, 0.85),
        (lambda: AutoencoderDetector(seed=1, epochs=15), ["spike", "h5"], 0.82),
        (lambda: LstmForecaster(seed=1, epochs=15), ["outage", "spike", "h5"], 0.85),
    ],
    ids=["isolation_forest", "conv1d_autoencoder", "lstm_forecaster"],
)
def test_detector_ranks_injected_days_above_clean_ones(days, detector, kinds, min_auc):
    train, test, types, complete = split(days)
    scores = detector().fit(train).score(test)
    assert scores.shape == (len(test),) and np.isfinite(scores[complete]).all()
    kinds = kinds or sorted(set(types) - {""})
    assert np.isin(types[complete], kinds).sum() >= 10
    assert auc_for(types, scores, complete, kinds) > min_auc


def test_windows_hold_the_previous_seven_days(days):
    clean, _, _ = days
    one = clean[clean["household_id"] == clean["household_id"].iloc[0]].reset_index(drop=True)
    windows = day_windows(one)
    assert windows.shape == (len(one), 7, 48)
    i = 40
    np.testing.assert_allclose(windows[i, -1], np.asarray(one["profile"].iloc[i - 1], dtype=float))
    np.testing.assert_allclose(windows[i, 0], np.asarray(one["profile"].iloc[i - 7], dtype=float))
    np.testing.assert_allclose(windows[0], np.ones((7, 48)))  # no past: flat profile


def test_a_missing_day_is_filled_with_the_window_mean_and_rows_can_be_chosen():
    """Two households, one with a gap and an incomplete day: a window's missing days take the
    mean of its available days; windows for chosen rows are those rows' windows of the whole."""
    day = pd.Timestamp("2013-03-01")
    profiles = [np.full(48, float(i)) for i in range(1, 7)]
    frame = pd.DataFrame(
        {
            "household_id": ["a"] * 4 + ["b"] * 2,
            "day": [day, day + pd.Timedelta(days=1), day + pd.Timedelta(days=3), day + pd.Timedelta(days=4)]
            + [day, day + pd.Timedelta(days=1)],
            "is_complete": [True, False, True, True, True, True],
            "profile": profiles,
        }
    )
    windows = day_windows(frame)
    # a's last day: its days 1 and 4 are in the window (day 2 incomplete, day 3 missing), 5 days not
    np.testing.assert_array_equal(windows[3, -4:, 0], [1.0, 2.0, 2.0, 3.0])  # mean (1+3)/2 fills
    np.testing.assert_array_equal(windows[3, :3, 0], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(windows[4], np.ones((7, 48)))  # b's first day: no past, flat
    np.testing.assert_array_equal(windows[5, -1], profiles[4])  # b's own day before, not a's
    chosen = np.array([False, True, False, True, True, False])
    np.testing.assert_array_equal(day_windows(frame, chosen), windows[chosen])


def test_calibration_surprisal_and_thresholds():
    train = np.arange(1000, dtype=float)
    calibration = Calibration.fit(train)
    s = calibration.surprisal(np.array([-5.0, 500.0, 990.0, 999.0, 1004.0, 5000.0]))
    assert s[0] == 0.0 and s[1] == pytest.approx(np.log10(2), rel=0.01)
    assert s[2] == pytest.approx(2.0, rel=0.05) and s[3] == pytest.approx(np.log10(1001))
    # Beyond the training maximum the order is kept: an exponential tail with the top 1 %'s mean
    # excess (5 here), one e-fold per 5 score units, not a tie at the cap.
    assert s[4] == pytest.approx(np.log10(1001) + 1 / np.log(10), rel=0.01)
    assert np.all(np.diff(s) > 0)
    assert threshold(train, 0.99) == pytest.approx(989.01)
    np.testing.assert_allclose(ensemble_score([np.array([1.0, 3.0]), np.array([3.0, 3.0])]), [2.0, 3.0])


def test_the_ensemble_fuses_the_members_its_bundle_was_trained_with():
    from energy_anomaly.models.bundle import Bundle
    from energy_anomaly.models.ensemble import ENSEMBLE_MEMBERS, FORMER_MEMBERS

    def bundle(metadata):
        return Bundle(None, None, None, calibrations={}, thresholds={}, metadata=metadata)

    assert "conv1d_autoencoder" not in ENSEMBLE_MEMBERS
    assert bundle({"ensemble_members": list(ENSEMBLE_MEMBERS)}).ensemble_members == ENSEMBLE_MEMBERS
    pair = ("isolation_forest", "lstm_forecaster")  # what bundles of the previous version fused
    assert bundle({"ensemble_members": list(pair)}).ensemble_members == pair
    # A bundle from before the members were chosen: its threshold is of the mean of all three.
    assert bundle({}).ensemble_members == FORMER_MEMBERS


def test_distinct_rows_rebuilds_every_row_and_keeps_near_duplicates_apart():
    from energy_anomaly.models.autoencoder import distinct_rows

    rng = np.random.default_rng(1)
    base = rng.random((50, 48))
    near = base[:5] + 1e-12
    x = np.concatenate([base, base[::-1], near, base[:3]])
    distinct, inverse = distinct_rows(x)
    assert len(distinct) == 55
    np.testing.assert_array_equal(distinct[inverse], x)


def test_distinct_rows_groups_rows_whose_projections_collide_exactly_and_only_them():
    """Rows an ulp apart in a small value project to the same number: they stay apart, each
    grouped with its exact copies, and the other rows are still grouped (not one row each)."""
    from energy_anomaly.models.autoencoder import distinct_rows

    rng = np.random.default_rng(2)
    base = rng.random((40, 48))
    base[:, 0] = 1e6  # the projection's sum is dominated by it: an ulp of 1e-3 vanishes in it
    base[:, 1] = 1e-3
    near = base[:4].copy()
    near[:, 1] = np.nextafter(near[:, 1], 1.0)
    probe = np.random.default_rng(0).standard_normal(48)
    assert np.array_equal(near @ probe, base[:4] @ probe)  # the collision this test is about
    x = np.concatenate([base, near, base[::-1], near[::-1]])
    distinct, inverse = distinct_rows(x)
    assert len(distinct) == 44
    np.testing.assert_array_equal(distinct[inverse], x)


def test_autoencoder_score_reconstructs_each_distinct_profile_once_with_the_same_result(days):
    from energy_anomaly.models.autoencoder import ERROR_FLOOR
    from energy_anomaly.models.inputs import SPREAD_FLOOR, profile_matrix

    train, test, _, _ = split(days)
    detector = AutoencoderDetector(seed=1, epochs=1).fit(train.head(400))
    windows = day_windows(test)
    history = np.log(detector.errors(windows.reshape(-1, 48)).reshape(-1, 7) + ERROR_FLOOR)
    day = np.log(detector.errors(profile_matrix(test)) + ERROR_FLOOR)
    naive = np.abs(day - history.mean(axis=1)) / (history.std(axis=1) + SPREAD_FLOOR)
    np.testing.assert_allclose(detector.score(test, windows=windows), naive, rtol=1e-6)


def test_forecast_error_terms_level_against_the_household_and_texture_against_the_window():
    from energy_anomaly.models.lstm import forecast_error

    rng = np.random.default_rng(3)
    usual = 1.0 + 0.2 * np.sin(np.linspace(0, 2 * np.pi, 48))  # household units: a typical day sums to 48
    windows = np.clip(usual + rng.normal(0, 0.4, (1, 7, 48)), 0, None)
    normal = np.clip(usual + rng.normal(0, 0.4, (1, 48)), 0, None)
    forecast = windows.mean(axis=1)
    flat = np.full((1, 48), normal.mean())  # h5: the day's mean at every half-hour
    days = np.concatenate([normal, flat, normal * 0.5])
    scores = forecast_error(days, np.repeat(forecast, 3, axis=0), np.repeat(windows, 3, axis=0))
    # The flat day sits closer to the smooth forecast than the real day does, yet scores higher:
    # its half-hour-to-half-hour texture is unlike the window's.
    assert ((flat - forecast) ** 2).mean() < ((normal - forecast) ** 2).mean()
    assert scores[1] > scores[0] + 1.0
    # Half the household's typical day: the level term alone adds (log 0.5 / the window's spread)^2, even when
    # the forecast itself is at half (a level shift's later days, whose window holds shifted days).
    halved = forecast_error(normal * 0.5, forecast * 0.5, windows * 0.5)
    assert halved[0] > scores[0] + 1.5 and scores[2] > scores[0] + 1.5


def test_a_forest_trained_before_shift_gain_reads_only_its_own_columns(days):
    from energy_anomaly.models.inputs import FORMER_IF_FEATURES, IF_FEATURES

    train, test, _, _ = split(days)
    assert "shift_gain_28" in IF_FEATURES and "shift_gain_28" not in FORMER_IF_FEATURES
    assert len(FORMER_IF_FEATURES) == 11 and set(FORMER_IF_FEATURES) < set(IF_FEATURES)
    former = IsolationForestDetector(seed=1, features=FORMER_IF_FEATURES).fit(train)
    assert former.model.n_features_in_ == len(FORMER_IF_FEATURES)
    scores = former.score(test.drop(columns="shift_gain_28"))  # a warehouse featurised before it
    assert np.isfinite(scores).all()


def test_early_stopping_counts_relative_improvements_and_keeps_the_lowest_epoch():
    from energy_anomaly.models.keras_runtime import MIN_IMPROVEMENT, _early_stopping, keras

    k = keras()
    model = k.Sequential([k.Input((2,)), k.layers.Dense(1)])
    model.stop_training = False
    stop = _early_stopping(k, patience=2)
    stop.set_model(model)
    stop.on_train_begin()
    # Epochs 2 and 3 are lower than any before, by less than MIN_IMPROVEMENT of the best: no progress.
    losses = [1.0, 0.9, 0.9 * (1 - MIN_IMPROVEMENT / 2), 0.9 * (1 - MIN_IMPROVEMENT * 0.9)]
    stopped = []
    for epoch, loss in enumerate(losses):
        model.set_weights([np.full((2, 1), float(epoch)), np.zeros(1)])
        stop.on_epoch_end(epoch, {"val_loss": loss})
        stopped.append(bool(model.stop_training))
    assert stopped == [False, False, False, True]
    model.set_weights([np.full((2, 1), 9.0), np.zeros(1)])
    stop.on_train_end()
    assert model.get_weights()[0][0, 0] == 3.0  # the lowest validation loss, though not "progress"
