"""The evaluation report: Markdown with PNG plots (matplotlib), written next to each other.

ROC and PR curves per model, recall per anomaly type, AUC per season and ACORN group, score
distributions of normal vs anomalous days, and caught and missed anomalies drawn as actual vs
expected profile. Pure pandas/matplotlib: the stage hands in what it computed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a cluster driver or in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from energy_anomaly.catalog import ENSEMBLE, MODELS  # noqa: E402
from energy_anomaly.evaluation.metrics import FPR_BUDGET, INSPECTIONS_PER_MONTH  # noqa: E402

MODEL_ORDER = (ENSEMBLE, *MODELS)
TABLE_METRICS = ("auc_roc", "auc_pr", "precision", "recall", "f1", "recall_at_1pct_fpr")
DPI = 110


def roc_points(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, kind="stable")
    y = labels[order].astype(bool)
    return np.r_[0.0, np.cumsum(~y) / max((~y).sum(), 1)], np.r_[0.0, np.cumsum(y) / max(y.sum(), 1)]


def pr_points(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, kind="stable")
    y = labels[order].astype(bool)
    true_pos = np.cumsum(y)
    return true_pos / max(y.sum(), 1), true_pos / np.arange(1, len(y) + 1)


def _models(cases: pd.DataFrame) -> list[str]:
    present = set(cases["model"])
    return [m for m in MODEL_ORDER if m in present] + sorted(present - set(MODEL_ORDER))


def plot_curves(cases: pd.DataFrame, metrics: pd.DataFrame, path: Path) -> None:
    overall = metrics[metrics["slice"] == "overall"].set_index(["model", "metric"])["value"]
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(11, 4.5))
    for model in _models(cases):
        group = cases[cases["model"] == model]
        scores, labels = group["score"].to_numpy(float), group["anomaly_type"].notna().to_numpy()
        roc.plot(*roc_points(scores, labels), label=f"{model} ({overall.get((model, 'auc_roc'), np.nan):.3f})")
        pr.plot(*pr_points(scores, labels), label=f"{model} ({overall.get((model, 'auc_pr'), np.nan):.3f})")
    roc.plot([0, 1], [0, 1], color="grey", linestyle=":")
    roc.axvline(FPR_BUDGET, color="grey", linewidth=0.8)
    roc.set(xlabel="false-positive rate", ylabel="recall", title="ROC (AUC)")
    prevalence = cases.loc[cases["model"] == _models(cases)[0], "anomaly_type"].notna().mean()
    pr.axhline(prevalence, color="grey", linestyle=":")
    pr.set(xlabel="recall", ylabel="precision", title="precision-recall (average precision)", ylim=(0, 1.02))
    for axis in (roc, pr):
        axis.legend(fontsize=8)
    _save(fig, path)


def slice_table(metrics: pd.DataFrame, prefix: str, metric: str, every: list[str] | None = None) -> pd.DataFrame:
    """``metric`` per value of ``prefix`` (rows) and model (columns), with ``n``: the slice's
    anomalous days (``n_anomalous``) for anomaly types, else its days. ``every``: values shown
    even with no scored day (n = 0)."""

    def values(name: str) -> pd.DataFrame:
        rows = metrics[metrics["slice"].str.startswith(prefix + "=") & (metrics["metric"] == name)]
        return rows.assign(slice=rows["slice"].str.slice(len(prefix) + 1))

    table = values(metric).pivot(index="slice", columns="model", values="value")
    table = table[[m for m in MODEL_ORDER if m in table.columns]]
    counted = values("n_anomalous" if prefix == "anomaly_type" else "n_days")
    n = counted.groupby("slice")["value"].max()
    if every:
        table = table.reindex(sorted(set(table.index) | set(every)))
    return table.assign(n=n.reindex(table.index).fillna(0).astype(int))


def plot_by_slice(
    metrics: pd.DataFrame, prefix: str, metric: str, path: Path, title: str, every: list[str] | None = None
) -> None:
    table = slice_table(metrics, prefix, metric, every)
    labels = [f"{name}\n(n={n:,})" for name, n in table["n"].items()]
    values = table.drop(columns="n")
    fig, axis = plt.subplots(figsize=(max(6, 0.8 * len(values) + 4), 4.2))
    values.set_axis(labels).plot.bar(ax=axis, width=0.8)
    if metric == "auc_roc":
        axis.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="chance (0.5)")
    axis.set(ylabel=metric, title=title, ylim=(0, 1.05), xlabel="")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    plt.setp(axis.get_xticklabels(), rotation=0, fontsize=8)
    _save(fig, path)


def plot_score_distributions(cases: pd.DataFrame, thresholds: dict[str, float], path: Path) -> None:
    """One panel per model. A model whose scores span more than two decades (the LSTM's long
    tail) gets a log score axis: on a linear one every normal day falls in the first bin."""
    models = _models(cases)
    fig, axes = plt.subplots(1, len(models), figsize=(4 * len(models), 3.8))
    for axis, model in zip(np.atleast_1d(axes), models):
        group = cases[cases["model"] == model]
        labelled = group["anomaly_type"].notna()
        scores = group["score"].to_numpy(float)
        positive = scores[scores > 0]
        logarithmic = len(positive) == len(scores) and positive.max() / positive.min() > 100
        if logarithmic:
            bins = np.geomspace(positive.min(), positive.max(), 50)
            axis.set_xscale("log")
        else:
            bins = np.histogram_bin_edges(scores, bins=50)
        normal, anomalous = group.loc[~labelled, "score"], group.loc[labelled, "score"]
        axis.hist(normal, bins=bins, density=True, alpha=0.6, label=f"normal (n={len(normal):,})")
        axis.hist(anomalous, bins=bins, density=True, alpha=0.6, label=f"anomalous (n={len(anomalous):,})")
        if model in thresholds:
            axis.axvline(thresholds[model], color="black", linestyle="--", linewidth=0.8, label="threshold")
        axis.set(title=model, xlabel="score (log axis)" if logarithmic else "score", yticks=[])
        axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1, frameon=False)
    _save(fig, path)


def plot_examples(examples: list[dict], path: Path) -> None:
    """``examples``: dicts with household_id, day, anomaly_type, caught, score, actual, expected (48 kWh)."""
    columns = 3
    rows = max(1, -(-len(examples) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(13, 3.2 * rows), squeeze=False)
    hours = np.arange(48) / 2
    for axis, example in zip(axes.ravel(), examples):
        axis.plot(hours, example["expected"], label="expected (LSTM)", color="grey")
        axis.plot(hours, example["actual"], label="actual", color="tab:red" if example["caught"] else "tab:blue")
        verdict = "caught" if example["caught"] else "missed"
        axis.set_title(
            f"{verdict}: {example['anomaly_type']} {example['household_id']} {example['day']}\n"
            f"ensemble score {example['score']:.2f}",
            fontsize=9,
        )
        axis.set(xlabel="hour", ylabel="kWh")
        axis.legend(fontsize=7)
    for axis in axes.ravel()[len(examples) :]:
        axis.axis("off")
    _save(fig, path)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def markdown_table(table: pd.DataFrame, first_column: str) -> str:
    """Rows of ``table`` (index = first column) as a Markdown table, values to 3 decimals."""
    lines = [f"| {first_column} | " + " | ".join(table.columns) + " |", "| --- |" + " ---: |" * len(table.columns)]
    lines += [f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |" for name, row in table.iterrows()]
    return "\n".join(lines)


def metrics_table(metrics: pd.DataFrame, slice_name: str) -> str:
    rows = metrics[metrics["slice"] == slice_name].pivot(index="model", columns="metric", values="value")
    rows = rows.reindex([m for m in MODEL_ORDER if m in rows.index])
    return markdown_table(rows[[m for m in TABLE_METRICS if m in rows.columns]], "model")


def per_type_table(metrics: pd.DataFrame, metric: str = "auc_roc", every: list[str] | None = None) -> str:
    """``metric`` per anomaly type and model, with the type's scored anomalous days (n); a type in
    ``every`` with none scored is a row of n = 0."""
    table = slice_table(metrics, "anomaly_type", metric, every)
    lines = ["| anomaly type | n | " + " | ".join(table.columns.drop("n")) + " |"]
    lines.append("| --- | ---: |" + " ---: |" * (len(table.columns) - 1))
    for name, row in table.iterrows():
        values = " | ".join("n/a" if pd.isna(v) else f"{v:.3f}" for v in row.drop("n"))
        lines.append(f"| {name} | {int(row['n']):,} | {values} |")
    return "\n".join(lines)


def inspection_table(metrics: pd.DataFrame) -> str:
    """Precision@K and MAP@K per model: the mean over the months, then each month."""
    rows = metrics[metrics["metric"].str.match(r"(precision|map)_at_\d+$")]
    if rows.empty:
        return ""
    columns = [f"{name}_at_{k}" for k in INSPECTIONS_PER_MONTH for name in ("precision", "map")]
    months = sorted(s for s in rows["slice"].unique() if s.startswith("month="))
    lines = ["| model | month | " + " | ".join(c.replace("_at_", "@") for c in columns) + " |"]
    lines.append("| --- | --- |" + " ---: |" * len(columns))
    for model in [m for m in MODEL_ORDER if m in set(rows["model"])]:
        of_model = rows[rows["model"] == model].set_index(["slice", "metric"])["value"]
        for slice_name in ["overall", *months]:
            label = "**mean**" if slice_name == "overall" else slice_name.removeprefix("month=")
            values = [of_model.get((slice_name, c)) for c in columns]
            shown = " | ".join("n/a" if v is None or pd.isna(v) else f"{v:.3f}" for v in values)
            lines.append(f"| {model} | {label} | {shown} |")
    return "\n".join(lines)


def monitoring_table(monitoring: pd.DataFrame) -> str:
    """gold/monitoring's overall rows, one line per scoring run and model, oldest first."""
    rows = monitoring[monitoring["slice"] == "overall"].sort_values(["scores_version", "model"])
    lines = [
        "| scores version | period | model | days | PSI | flagged | training | moved | complete | drift |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]

    def shown(value, form: str) -> str:
        return "n/a" if pd.isna(value) else format(value, form)

    for r in rows.itertuples():
        drift = "n/a" if pd.isna(r.drift) else ("**yes**" if r.drift else "no")
        lines.append(
            f"| {r.scores_version} | {r.period_start} .. {r.period_end} | {r.model} | {r.days:,} "
            f"| {shown(r.psi, '.3f')} | {shown(r.flagged_rate, '.2%')} | {r.training_flagged_rate:.2%} "
            f"| {shown(r.moved_share, '.1%')} | {shown(r.completeness, '.1%')} | {drift} |"
        )
    return "\n".join(lines)


def write_report(
    folder: Path, result, thresholds: dict[str, float], examples: list[dict], monitoring: pd.DataFrame | None = None
) -> Path:
    """Plots and ``report.md`` into ``folder``; returns the report's path. ``monitoring``: the
    model's gold/monitoring rows, shown over time."""
    folder.mkdir(parents=True, exist_ok=True)
    metrics, cases = result.metrics, result.cases
    plot_curves(cases, metrics, folder / "curves.png")
    types = sorted(getattr(result, "labelled_per_type", {}) or {})
    plot_by_slice(
        metrics,
        "anomaly_type",
        "recall",
        folder / "recall_by_type.png",
        "recall at the operating threshold, per anomaly type",
        types,
    )
    plot_by_slice(
        metrics,
        "anomaly_type",
        "auc_roc",
        folder / "auc_by_type.png",
        "AUC-ROC per anomaly type (that type vs normal days)",
        types,
    )
    plot_by_slice(metrics, "season", "auc_roc", folder / "auc_by_season.png", "AUC-ROC per season")
    plot_by_slice(metrics, "acorn_group", "auc_roc", folder / "auc_by_acorn_group.png", "AUC-ROC per ACORN group")
    plot_score_distributions(cases, thresholds, folder / "score_distributions.png")
    if examples:
        plot_examples(examples, folder / "examples.png")
    sections = [
        f"# Detection quality: run `{result.run_id}`",
        f"Model `{result.model_version}`; {result.days:,} scored household-days, {result.anomalous_days:,} of them "
        f"labelled anomalous ({result.anomalous_days / max(result.days, 1):.1%}). Labelled days not scored (incomplete "
        f"after cleaning): {result.labels_not_scored:,}; labels outside the period: {result.labels_outside_period:,}.",
        "Precision, recall and F1 are at each model's operating threshold (`is_anomaly`); "
        f"`recall_at_1pct_fpr` is the recall when at most {FPR_BUDGET:.0%} of normal days may be flagged.",
        "## Overall",
        metrics_table(metrics, "overall"),
        "![ROC and PR curves](curves.png)",
        "## Per anomaly type (AUC-ROC: that type against all normal days)",
        "n: the type's labelled days that were scored (a labelled day incomplete after cleaning is not).",
        per_type_table(metrics, "auc_roc", types),
        "![AUC per type](auc_by_type.png)",
        "### Recall at the operating threshold, per anomaly type",
        per_type_table(metrics, "recall", types),
        "![recall per type](recall_by_type.png)",
        "## An investigator's month: precision@K and MAP@K",
        "Of each month's K highest-scored household-days, the share labelled anomalous (precision@K) and "
        "the mean precision at each labelled one (MAP@K), as a utility inspecting K premises a month would "
        "see them; the mean over the months first.",
        inspection_table(metrics),
        "## Per season and ACORN group",
        "![AUC per season](auc_by_season.png)",
        "![AUC per ACORN group](auc_by_acorn_group.png)",
        "## Score distributions",
        "![score distributions](score_distributions.png)",
    ]
    if examples:
        sections += ["## Caught and missed anomalies (ensemble)", "![examples](examples.png)"]
    if monitoring is not None and not monitoring.empty:
        sections += [
            "## Monitoring: every scoring run of this model against its training",
            "PSI of the scores against the training scores (drift above 0.2), flagged share against the "
            "training share (drift above 3x), the share of households whose level moved beyond the season "
            "(drift above 10 %), and the share of household-days complete enough to score. "
            "Per ACORN group and tariff: `gold/monitoring`.",
            monitoring_table(monitoring),
        ]
    sections += ["All rows of this run are in `gold/metrics` (`run_id` above)."]
    path = folder / "report.md"
    path.write_text("\n\n".join(sections) + "\n")
    return path
