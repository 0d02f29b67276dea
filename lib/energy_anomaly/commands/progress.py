"""Progress a scheduler's log can read: one line per stage, ``[3/6] features: 70,302
household-days in 37 s``, the same name on the stage's Spark jobs (``setJobDescription``, what
the Spark UI lists), and the summary ``--json`` prints as the last line."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field

from energy_anomaly.session import describe_jobs


@dataclass
class Progress:
    steps: list[str]
    spark: object = None  # a classic session; on Spark Connect (no SparkContext) jobs keep Spark's names
    done: list[dict] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, name: str):
        """Times the block; the block sets ``out["count"]`` and ``out["unit"]`` (and anything
        else the JSON summary should carry)."""
        number = self.steps.index(name) + 1
        label = f"[{number}/{len(self.steps)}] {name}"
        describe_jobs(self.spark, label)
        out: dict = {}
        began = time.monotonic()
        try:
            yield out
        finally:
            describe_jobs(self.spark, None)
        seconds = time.monotonic() - began
        count = out.get("count")
        what = f"{count:,} {out.get('unit', 'rows')}" if count is not None else "done"
        print(f"{label}: {what} in {seconds:.0f} s", flush=True)
        self.done.append({"stage": name, "seconds": round(seconds, 1), **out})


def print_json(summary: dict) -> None:
    """The summary as one JSON line, the last of the output (``… | tail -1 | jq``)."""
    print(json.dumps(summary, default=str, sort_keys=True), flush=True)
