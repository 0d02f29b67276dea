"""The CLI's subcommands: name -> (help, add_arguments, run), in pipeline order."""

from __future__ import annotations

from energy_anomaly.commands import data, deploy, models, pipeline, update

COMMANDS = {
    "setup": (
        "resolve Delta's jars into the local cache and check Spark + Delta start",
        data.setup_args,
        data.setup_command,
    ),
    "ingest": (
        "raw LCL CSV (files, dirs, globs; plain or gzip) -> bronze/readings + bronze/quarantine",
        data.ingest_args,
        data.ingest_command,
    ),
    "clean": (
        "bronze/readings -> silver/readings (half-hourly grid) + silver/daily",
        data.clean_args,
        data.clean_command,
    ),
    "features": (
        "silver/daily -> gold/features (per-household baselines, profile, shape and calendar features)",
        models.features_args,
        models.features_command,
    ),
    "train": (
        "stratified sample of gold/features -> the three detectors + ensemble, saved with metadata",
        models.train_args,
        models.train_command,
    ),
    "score": (
        "every complete household-day of a period by every model -> gold/anomaly_scores, gold/anomalies",
        models.score_args,
        models.score_command,
    ),
    "evaluate": (
        "gold/anomaly_scores vs the labels of inject -> gold/metrics + a report with plots",
        models.evaluate_args,
        models.evaluate_command,
    ),
    "promote": (
        "move the registry's champion alias to a version (default: the challenger), if it did no worse",
        models.promote_args,
        models.promote_command,
    ),
    "run": (
        "ingest -> clean -> features -> train -> score (-> evaluate with --labels)",
        pipeline.run_args,
        pipeline.run_command,
    ),
    "update": (
        "new files in a landing zone -> bronze -> the silver days they touch -> their features -> their scores",
        update.update_args,
        update.update_command,
    ),
    "maintain": (
        "Delta upkeep: OPTIMIZE (clustered by household where read by household) and VACUUM",
        data.maintain_args,
        data.maintain_command,
    ),
    "protocol": (
        "the standard evaluation: inject Sep-Dec, train Jan-Aug, score, evaluate",
        pipeline.protocol_args,
        pipeline.protocol_command,
    ),
    "generate": (
        "LCL-shaped readings at any scale (default: the full London shape), deterministic by --seed",
        data.generate_args,
        data.generate_command,
    ),
    "compare": (
        "distances between generated and real readings (daily totals, seasonal profiles, ...)",
        data.compare_args,
        data.compare_command,
    ),
    "inject": (
        "plant labelled synthetic anomalies into readings (CSV -> CSV, or Delta -> Delta)",
        data.inject_args,
        data.inject_command,
    ),
    "package": (
        "the package as a zip for spark-submit --py-files, and the command that submits a job",
        deploy.package_args,
        deploy.package_command,
    ),
    "demo": (
        "the standard protocol on the real sample shipped in the repo, on embedded Spark + local Delta",
        pipeline.demo_args,
        pipeline.demo_command,
    ),
}
