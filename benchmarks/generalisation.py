"""Benchmark: detection on what it was not tuned to, over several injection seeds.

    .venv/bin/python -m benchmarks.generalisation --input LCL/halfhourly_2013 \
        --households LCL/informations_households.csv --root bench/generalisation [--seeds 42,7,123] \
        [--span-seeds 11,19,23] [--reuse]

Runs ``energy-anomaly protocol --seed N`` for each seed (each its own process and warehouse under
``--root``; ``--reuse`` keeps a seed's finished warehouse), then prints, from the scores and labels:
- the headline: the ensemble's AUC-ROC and AUC-PR, mean over the seeds, with a 95 % interval from
  resampling households (``evaluation.generalisation``);
- per anomaly type: its labelled days and the households they are in (summed over seeds: what
  each figure rests on), the held-out AUC-ROC of leave-one-type-out (the configuration chosen on the
  other types' labels), the ensemble's AUC-ROC with its interval, the best single detector, and
  the ensemble's gap to it;
- with ``--span-seeds``, the span types (``level_shift``, ``drift``) injected alone, one more protocol
  run per seed: a drift labels 14-28 days of one household, so the standard runs hold a few drifts
  and their figure says little about the next one. Here each type has tens of episodes, scored
  under the configuration the standard runs' leave-one-type-out chose for it;
- per anomaly type, the share of its days the ensemble flags at its operating threshold;
- precision@K and MAP@K per month (mean over months and seeds);
- the context: where ordinary (unlabelled) days of a bank holiday, a weekend, or a day 3 degrees
  colder or warmer than the month before rank among all ordinary days (0.5: like any other day),
  and the share of them flagged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from energy_anomaly.catalog import ENSEMBLE, GOLD_FEATURES, GOLD_SCORES, MODELS
from energy_anomaly.commands.pipeline import PROTOCOL_TEST
from energy_anomaly.config import load_config
from energy_anomaly.evaluation import generalisation as g
from energy_anomaly.evaluation.metrics import monthly_inspection
from energy_anomaly.evaluation.stage import read_labels
from energy_anomaly.models.bundle import calibrations_of, read_metadata
from energy_anomaly.periods import in_period
from energy_anomaly.session import build_session
from energy_anomaly.synth.anomalies import SPAN_ANOMALIES
from energy_anomaly.tables import models_dir, read_table

CLI = [sys.executable, "-m", "energy_anomaly"]


def run_protocol(args, seed: int, warehouse: Path, types: tuple[str, ...] = ()) -> None:
    if args.reuse and (warehouse / "reports").is_dir():
        print(f"seed {seed}: reusing {warehouse}")
        return
    command = [*CLI, "protocol", "--seed", str(seed), "--warehouse", str(warehouse)]
    if types:
        command += ["--types", ",".join(types)]
    for path in args.input:
        command += ["--input", path]
    for path in args.households or []:
        command += ["--households", path]
    print(f"seed {seed}: {' '.join(command[2:])}", flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def cases_of(spark, warehouse: Path) -> pd.DataFrame:
    start, end = PROTOCOL_TEST
    scores = read_table(spark, str(warehouse), GOLD_SCORES).where(in_period(start, end))
    version = scores.select("model_version").first()[0]
    calibrations = calibrations_of(read_metadata(models_dir(str(warehouse)) / version))
    labels_paths = sorted(str(p) for p in (warehouse / "protocol").glob("input_*/labels"))
    labels = read_labels(spark, labels_paths).where(in_period(start, end)).select("household_id", "day", "anomaly_type")
    frame = scores.select("household_id", "day", "model", "score", "is_anomaly").toPandas()
    label_frame = labels.distinct().toPandas()
    context = read_table(spark, str(warehouse), GOLD_FEATURES).select("household_id", "day", *CONTEXT).toPandas()
    return g.cases_with_surprisals(frame, label_frame, calibrations).merge(context, on=["household_id", "day"])


CONTEXT = ("is_holiday", "is_weekend", "temperature_delta")
# A day this many degrees from the mean of the 28 before it counts as a turn of the weather.
WEATHER_TURN = 3.0


def context_lines(pooled: pd.DataFrame) -> list[str]:
    """Ordinary days by context: their mean rank among all ordinary days of their run, and the share flagged."""
    ordinary = pooled[pooled["anomaly_type"].isna()]
    delta = ordinary["temperature_delta"].astype(float)
    slices = {
        "bank holiday": ordinary["is_holiday"],
        "weekend": ordinary["is_weekend"],
        f">= {WEATHER_TURN:.0f} degrees colder": delta <= -WEATHER_TURN,
        f">= {WEATHER_TURN:.0f} degrees warmer": delta >= WEATHER_TURN,
        "any day": pd.Series(True, index=ordinary.index),
    }
    lines = []
    for name, chosen in slices.items():
        days = ordinary[chosen.fillna(False).astype(bool)]
        lines.append(
            f"  {name}: {len(days):,} days, mean rank {days['rank'].mean():.3f}, flagged {days['flagged'].mean():.2%}"
        )
    return lines


def labelled_evidence(runs: list[pd.DataFrame]) -> dict[str, str]:
    """Per type (and overall), its labelled test days and the households they are in, summed over
    the runs. A 14-28 day drift is one household's: its AUC rests on as many drifts as households,
    and resampling households cannot show how another drift would have ranked."""
    labelled = pd.concat(
        [
            run.loc[run["anomaly_type"].notna(), ["household_id", "anomaly_type"]].assign(run=i)
            for i, run in enumerate(runs)
        ]
    )

    def days_and_households(rows: pd.DataFrame) -> str:
        return f"{len(rows):,} ({rows[['run', 'household_id']].drop_duplicates().shape[0]:,})"

    out = {g.OVERALL: days_and_households(labelled)}
    for kind, rows in labelled.groupby("anomaly_type"):
        out[kind] = days_and_households(rows)
    return out


def span_lines(span_runs: list[pd.DataFrame], held: dict[str, list]) -> list[str]:
    """The span types, injected alone: per type, its labelled days and households, the AUC-ROC of
    the configurations the standard runs' leave-one-type-out chose for it (not chosen again here:
    these runs hold no other type's labels) and the ensemble's, each with its household interval."""
    evidence = labelled_evidence(span_runs)
    kinds = sorted(set().union(*(set(r["anomaly_type"].dropna()) for r in span_runs)))
    choices = {kind: sorted({h.chosen for h in held.get(kind, [])}) for kind in kinds}
    names = {ENSEMBLE}.union(*choices.values())
    figures = {
        name: g.bootstrap(span_runs, lambda r, n=name: g.configurations(r)[n]).set_index("figure") for name in names
    }
    lines = ["| type | days (households) | held-out choice in the standard runs: AUC-ROC [95 %] | ensemble [95 %] |"]
    lines.append("| --- | ---: | --- | ---: |")
    for kind in kinds:
        key = f"auc_roc:{kind}"
        held_out = "; ".join(f"{name} {interval(figures[name].loc[key])}" for name in choices[kind])
        lines.append(f"| {kind} | {evidence[kind]} | {held_out} | {interval(figures[ENSEMBLE].loc[key])} |")
    return lines


def interval(row) -> str:
    return f"{row.value:.3f} [{row.low:.3f}, {row.high:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", action="append", required=True)
    parser.add_argument("--households", action="append")
    parser.add_argument("--root", required=True)
    parser.add_argument("--seeds", default="42,7,123")
    parser.add_argument(
        "--span-seeds",
        default="",
        help="also run the protocol with only the span types (level_shift, drift) for these seeds",
    )
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    span_seeds = [int(s) for s in args.span_seeds.split(",") if s.strip()]
    root = Path(args.root).resolve()
    began = dt.datetime.now()
    for seed in seeds:
        run_protocol(args, seed, root / f"seed{seed}")
    for seed in span_seeds:
        run_protocol(args, seed, root / f"span{seed}", tuple(SPAN_ANOMALIES))
    spark = build_session(load_config().spark)
    spark.sparkContext.setLogLevel("ERROR")
    runs = [cases_of(spark, root / f"seed{seed}") for seed in seeds]
    types = sorted(set().union(*(set(r["anomaly_type"].dropna()) for r in runs)))

    print(f"\n{len(seeds)} seeds ({args.seeds}); per seed: scored household-days, labelled, ensemble AUC-ROC")
    for seed, run in zip(seeds, runs):
        per = g.per_type_auc(run[ENSEMBLE].to_numpy(float), run["anomaly_type"].to_numpy(object), [])
        print(f"  seed {seed}: {len(run):,} days, {run['anomaly_type'].notna().sum():,} labelled, {per[g.OVERALL]:.3f}")

    bootstrapped = {
        name: g.bootstrap(runs, lambda r, n=name: g.configurations(r)[n]).set_index("figure")
        for name in [ENSEMBLE, *MODELS]
    }
    ens = bootstrapped[ENSEMBLE]
    print("\nheadline (mean over seeds, 95 % interval over households):")
    print(f"  ensemble AUC-ROC {interval(ens.loc['auc_roc:overall'])}, AUC-PR {interval(ens.loc['auc_pr:overall'])}")
    for model in MODELS:
        b = bootstrapped[model]
        print(
            f"  {model}: AUC-ROC {b.loc['auc_roc:overall', 'value']:.3f}, AUC-PR {b.loc['auc_pr:overall', 'value']:.3f}"
        )

    held = {}
    for run in runs:
        for h in g.leave_one_type_out(run):
            held.setdefault(h.anomaly_type, []).append(h)
    evidence = labelled_evidence(runs)
    print(
        "\n| type | days (households) | held out (LOTO) | chosen on the other types | ensemble [95 %] "
        "| best single | gap |"
    )
    print("| --- | ---: | ---: | --- | ---: | --- | ---: |")
    worst_gap = 0.0
    for kind in [g.OVERALL, *types]:
        key = f"auc_roc:{kind}"
        best_model = max(MODELS, key=lambda m: bootstrapped[m].loc[key, "value"])
        best = bootstrapped[best_model].loc[key, "value"]
        gap = ens.loc[key, "value"] - best
        worst_gap = min(worst_gap, gap)
        if kind == g.OVERALL:
            loto, chosen = "", ""
        else:
            loto = f"{np.mean([h.auc_roc for h in held[kind]]):.3f}"
            chosen = ", ".join(sorted({h.chosen for h in held[kind]}))
        print(
            f"| {kind} | {evidence[kind]} | {loto} | {chosen} | {interval(ens.loc[key])} | {best_model} {best:.3f} "
            f"| {gap:+.3f} |"
        )
    print(f"\nensemble vs best single detector, worst gap over overall and the types: {worst_gap:+.3f}")
    folds = pd.Series([h.chosen for hs in held.values() for h in hs]).value_counts()
    print(
        f"configurations chosen over the {folds.sum()} folds (types × seeds): "
        + ", ".join(f"{n} {c}" for n, c in folds.items())
    )

    if span_seeds:
        span_runs = [cases_of(spark, root / f"span{seed}") for seed in span_seeds]
        print(
            f"\nthe span types injected alone (seeds {args.span_seeds}; a 14-28 day drift is one household's, "
            "so the standard runs hold a few of each):"
        )
        print("\n".join(span_lines(span_runs, held)))

    pooled = pd.concat(runs, ignore_index=True)
    recall = pooled[pooled["anomaly_type"].notna()].groupby("anomaly_type")["flagged"].mean()
    normal_flagged = pooled.loc[pooled["anomaly_type"].isna(), "flagged"].mean()
    print(
        f"\nrecall at the ensemble's threshold (all seeds; {normal_flagged:.1%} of normal days flagged): "
        + ", ".join(f"{kind} {value:.2f}" for kind, value in recall.items())
    )

    inspection = pd.DataFrame(
        [row for run in runs for row in monthly_inspection(run.assign(score=run[ENSEMBLE]))],
        columns=["slice", "metric", "value"],
    )
    mean = inspection[inspection["slice"] == "overall"].groupby("metric")["value"].mean()
    print(
        "ensemble, per month (mean over months and seeds): "
        + ", ".join(
            f"{m.replace('_at_', '@')} {mean[m]:.3f}"
            for m in sorted(mean.index, key=lambda m: (int(m.split("_")[-1]), m))
        )
    )
    ranked = [run[run["anomaly_type"].isna()].assign(rank=lambda r: r[ENSEMBLE].rank(pct=True)) for run in runs]
    print("\nordinary days by context (rank among a run's ordinary days by the ensemble; 0.5 = like any day):")
    print("\n".join(context_lines(pd.concat(ranked, ignore_index=True))))
    print(f"\ndone in {(dt.datetime.now() - began).total_seconds():.0f} s")
    spark.stop()


if __name__ == "__main__":
    main()
