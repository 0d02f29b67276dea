-- Dashboard questions over the gold tables, in DuckDB SQL.
--
-- Views expected (energy_anomaly.bi.duckdb.connect creates them over the Delta tables):
--   scores      = gold/anomaly_scores   anomalies = gold/anomalies
--   households  = silver/households     metrics   = gold/metrics
--   monitoring  = gold/monitoring
-- A household for `household_history`: SET VARIABLE household_id = 'MAC000002';
-- Each question starts with a `-- name:` line; a BI tool can paste any one of them.

-- name: anomalies_per_day
SELECT day, count(*) AS flagged_households, round(sum(abs(deviation_kwh)), 3) AS anomalous_kwh
FROM anomalies
GROUP BY day
ORDER BY day;

-- name: anomalies_per_week
SELECT date_trunc('week', day) AS week, count(*) AS flagged_household_days,
       count(DISTINCT household_id) AS households, round(sum(abs(deviation_kwh)), 3) AS anomalous_kwh
FROM anomalies
GROUP BY week
ORDER BY week;

-- name: anomalies_by_reason
-- What the flagged days look like (the reason their features give), week by week.
SELECT date_trunc('week', day) AS week, coalesce(reason, 'unknown') AS reason, count(*) AS flagged_household_days,
       round(sum(abs(deviation_kwh)), 3) AS anomalous_kwh
FROM anomalies
GROUP BY ALL
ORDER BY week, flagged_household_days DESC;

-- name: anomaly_rate_by_acorn_group_and_tariff
SELECT coalesce(h.acorn_group, 'unknown') AS acorn_group, coalesce(h.tariff, 'unknown') AS tariff,
       count(*) AS scored_days, count(*) FILTER (WHERE s.is_anomaly) AS flagged_days,
       round(count(*) FILTER (WHERE s.is_anomaly) / count(*), 4) AS flagged_share
FROM scores s
LEFT JOIN households h USING (household_id)
WHERE s.model = 'ensemble'
GROUP BY ALL
ORDER BY flagged_share DESC, acorn_group, tariff;

-- name: top_households_by_anomalous_kwh
SELECT household_id, any_value(acorn_group) AS acorn_group, any_value(tariff) AS tariff,
       count(*) AS flagged_days, round(sum(abs(deviation_kwh)), 3) AS anomalous_kwh,
       round(sum(actual_kwh), 3) AS actual_kwh, round(sum(expected_kwh), 3) AS expected_kwh
FROM anomalies
GROUP BY household_id
ORDER BY anomalous_kwh DESC, household_id
LIMIT 20;

-- name: model_agreement
-- How often two models flag the same household-day, against how often either flags it.
WITH flags AS (
    SELECT household_id, day, model, is_anomaly FROM scores WHERE model <> 'ensemble'
)
SELECT a.model AS model_a, b.model AS model_b,
       count(*) FILTER (WHERE a.is_anomaly AND b.is_anomaly) AS both_flag,
       count(*) FILTER (WHERE a.is_anomaly OR b.is_anomaly) AS either_flags,
       round(count(*) FILTER (WHERE a.is_anomaly AND b.is_anomaly)
             / greatest(count(*) FILTER (WHERE a.is_anomaly OR b.is_anomaly), 1), 4) AS jaccard
FROM flags a
JOIN flags b ON a.household_id = b.household_id AND a.day = b.day AND a.model < b.model
GROUP BY ALL
ORDER BY model_a, model_b;

-- name: models_flagging_per_day
SELECT n_models, count(*) AS household_days
FROM (
    SELECT household_id, day, count(*) FILTER (WHERE is_anomaly AND model <> 'ensemble') AS n_models
    FROM scores GROUP BY household_id, day
)
GROUP BY n_models
ORDER BY n_models;

-- name: household_history
SELECT s.day, s.model, round(s.score, 4) AS score, round(s.threshold, 4) AS threshold, s.is_anomaly,
       a.actual_kwh, a.expected_kwh, a.top_deviating_times
FROM scores s
LEFT JOIN anomalies a ON a.household_id = s.household_id AND a.day = s.day AND a.model = s.model
WHERE s.household_id = getvariable('household_id')
ORDER BY s.day, s.model;

-- name: latest_evaluation
SELECT model, slice, metric, round(value, 4) AS value
FROM metrics
WHERE run_id = (SELECT arg_max(run_id, evaluated_at) FROM metrics)
  AND slice = 'overall' AND metric IN ('auc_roc', 'auc_pr', 'precision', 'recall', 'f1', 'recall_at_1pct_fpr')
ORDER BY model, metric;

-- name: drift_over_time
-- Each scoring run (score or update) against the model's training: score PSI, flagged rate, the
-- share of households whose level moved beyond the season, and the drift flag (monitoring.core).
SELECT scored_at, scores_version, model_version, period_start, period_end, model, days,
       round(psi, 3) AS psi, round(flagged_rate, 4) AS flagged_rate,
       round(training_flagged_rate, 4) AS training_flagged_rate, round(moved_share, 3) AS moved_share,
       round(completeness, 3) AS completeness, drift
FROM monitoring
WHERE slice = 'overall'
ORDER BY scores_version, model;

-- name: drifting_slices
SELECT scores_version, model, slice, days, round(psi, 3) AS psi, round(flagged_rate, 4) AS flagged_rate,
       round(moved_share, 3) AS moved_share
FROM monitoring
WHERE slice <> 'overall' AND (drift OR scores_version = (SELECT max(scores_version) FROM monitoring))
ORDER BY scores_version DESC, model, slice;
