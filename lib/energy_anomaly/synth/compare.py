"""Generated vs real readings: the distances the generator is judged by.

On complete household-days of the period both cover: daily-total quantiles (5/50/95 %), the mean
48-slot profile per season (relative L1 distance), the weekday/weekend ratio of mean daily totals,
and the share of zero readings.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from energy_anomaly.calendar import is_weekend, season
from energy_anomaly.synth.profiles import complete_days

QUANTILES = (0.05, 0.5, 0.95)
SEASONS = ("winter", "spring", "summer", "autumn")


@dataclass(frozen=True)
class Stats:
    days: int
    quantiles: tuple[float, ...]
    profiles: dict[str, list[float]]
    weekday_weekend_ratio: float
    zero_share: float


def stats(readings: DataFrame) -> Stats:
    days = complete_days(readings).cache()
    summary = days.agg(
        F.count(F.lit(1)).alias("days"),
        F.percentile("daily_kwh", list(QUANTILES)).alias("q"),
        (
            F.avg(F.when(~is_weekend(F.col("day")), F.col("daily_kwh")))
            / F.avg(F.when(is_weekend(F.col("day")), F.col("daily_kwh")))
        ).alias("ratio"),
    ).first()
    by_slot = (
        days.select(season(F.col("day")).alias("season"), F.posexplode("kwh").alias("slot", "kwh"))
        .groupBy("season", "slot")
        .agg(F.avg("kwh").alias("mean"))
        .collect()
    )
    profiles: dict[str, list[float]] = {}
    for row in sorted(by_slot, key=lambda r: (r.season, r.slot)):
        profiles.setdefault(row.season, []).append(row.mean)
    zero = readings.agg(F.avg((F.col("kwh") == 0).cast("double"))).first()[0]
    days.unpersist()
    return Stats(summary["days"], tuple(summary["q"]), profiles, summary["ratio"], zero)


def relative(generated: float, real: float) -> float:
    return abs(generated - real) / abs(real) if real else float("inf")


def profile_distance(generated: list[float], real: list[float]) -> float:
    return sum(abs(g - r) for g, r in zip(generated, real)) / sum(abs(r) for r in real)


def distances(real: Stats, generated: Stats) -> list[tuple[str, float, float, float]]:
    """(metric, real, generated, relative distance) rows."""
    rows = [
        (f"daily kWh q{int(q * 100)}", r, g, relative(g, r))
        for q, r, g in zip(QUANTILES, real.quantiles, generated.quantiles)
    ]
    for name in SEASONS:
        if name in real.profiles and name in generated.profiles:
            r, g = real.profiles[name], generated.profiles[name]
            rows.append((f"{name} mean profile (L1)", sum(r) / len(r), sum(g) / len(g), profile_distance(g, r)))
    rows.append(
        (
            "weekday/weekend ratio",
            real.weekday_weekend_ratio,
            generated.weekday_weekend_ratio,
            relative(generated.weekday_weekend_ratio, real.weekday_weekend_ratio),
        )
    )
    rows.append(
        ("share of zero readings", real.zero_share, generated.zero_share, abs(generated.zero_share - real.zero_share))
    )
    return rows
