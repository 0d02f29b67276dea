"""The CLI's subcommands: name -> (help, add_arguments, run), in pipeline order."""
from __future__ import annotations

from energy_anomaly.commands import data, deploy, models, pipeline

COMMANDS = {
    "setup": ("resolve Delta's jars into the local cache and check Spark + Delta start", data._setup_args, data._setup),
    "ingest": ("raw LCL CSV (files, dirs, globs; plain or gzip) -> bronze/readings + bronze/quarantine", data._ingest_args, data._ingest),
    "clean": ("bronze/readings -> silver/readings (half-hourly grid) + silver/daily", data._clean_args, data._clean),
    "features": ("silver/daily -> gold/features (per-household baselines, profile, shape and calendar features)", models._features_args, models._features),
    "train": ("stratified sample of gold/features -> the three detectors + ensemble, saved with metadata", models._train_args, models._train),
    "score": ("every complete household-day of a period by every model -> gold/anomaly_scores, gold/anomalies", models._score_args, models._score),
    "evaluate": ("gold/anomaly_scores vs the labels of inject -> gold/metrics + a report with plots", models._evaluate_args, models._evaluate),
    "run": ("ingest -> clean -> features -> train -> score (-> evaluate with --labels)", pipeline._run_args, pipeline._run),
    "protocol": ("the standard evaluation: inject Sep-Dec, train Jan-Aug, score, evaluate", pipeline._protocol_args, pipeline._protocol),
    "generate": ("LCL-shaped readings at any scale (default: the full London shape), deterministic by --seed", data._generate_args, data._generate),
    "compare": ("distances between generated and real readings (daily totals, seasonal profiles, ...)", data._compare_args, data._compare),
    "inject": ("plant labelled synthetic anomalies into readings (CSV -> CSV, or Delta -> Delta)", data._inject_args, data._inject),
    "package": ("the package as a zip for spark-submit --py-files, and the command that submits a job", deploy._package_args, deploy._package),
    "demo": ("the standard protocol on the real sample shipped in the repo, on embedded Spark + local Delta", pipeline._demo_args, pipeline._demo),
}
