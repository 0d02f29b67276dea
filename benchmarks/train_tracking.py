"""Benchmark: what MLflow tracking and registration add to ``train`` on the standard protocol.

    .venv/bin/python -m benchmarks.train_tracking [--work bench/train_tracking] [--rounds 2]

Builds the standard protocol's warehouse once (``energy-anomaly protocol`` on the sample shipped
in the repo: inject Sep-Dec, ingest, clean, features, train Jan-Aug, score, evaluate), then in
one process alternates the bare training stage (``training.stage.run_train``: sample, fit, save
the bundle) with the command users run (``commands.models.train``: the same inside an MLflow run,
with per-epoch losses, lineage, the pyfunc model logged and registered). Printed per round: both
wall times, the time spent in MLflow calls, and the overhead against the bare stage (target
<= 10 %).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from pathlib import Path

from energy_anomaly.commands.models import train
from energy_anomaly.commands.pipeline import PROTOCOL_TRAIN
from energy_anomaly.config import REPO_ROOT, load_config
from energy_anomaly.session import build_session
from energy_anomaly.training.stage import run_train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=str(REPO_ROOT / "bench" / "train_tracking"))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    warehouse = Path(args.work) / "warehouse"
    config = load_config().with_warehouse(str(warehouse))
    if not (warehouse / "gold" / "features").is_dir():
        from energy_anomaly.cli import main as cli

        began = time.perf_counter()
        assert cli(["protocol", "--warehouse", str(warehouse)]) == 0
        print(f"set-up: the standard protocol in {time.perf_counter() - began:.0f} s")
    spark = build_session(config.spark)
    c = config.train
    settings = {
        "start": PROTOCOL_TRAIN[0],
        "end": PROTOCOL_TRAIN[1],
        "per_stratum": c.per_stratum,
        "seed": c.seed,
        "threshold_quantile": c.threshold_quantile,
        "epochs": c.epochs,
    }
    print("round | bare run_train s | train with MLflow s | in MLflow calls s | overhead vs bare")
    for round_ in range(1, args.rounds + 1):
        began = time.perf_counter()
        run_train(spark, str(warehouse), **settings)
        bare = time.perf_counter() - began
        printed = io.StringIO()
        began = time.perf_counter()
        with contextlib.redirect_stdout(printed):
            train(config, **{k: settings[k] for k in ("start", "end", "per_stratum", "seed", "epochs")})
        tracked = time.perf_counter() - began
        line = next(ln for ln in printed.getvalue().splitlines() if "tracking took" in ln)
        in_mlflow = float(line.split("tracking took ")[1].split(" s")[0])
        print(
            f"{round_:5d} | {bare:16.1f} | {tracked:19.1f} | {in_mlflow:17.1f} | "
            f"{(tracked - bare) / bare:+.1%} (MLflow calls {in_mlflow / bare:.1%} of the bare stage)"
        )


if __name__ == "__main__":
    main()
