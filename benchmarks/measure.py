"""Runs a command and prints its wall time and the peak resident memory of its whole process
tree (the Python driver, the JVM it starts and Python workers), sampled every 0.5 s.

    .venv/bin/python -m benchmarks.measure -- .venv/bin/energy-anomaly generate --warehouse bench/full
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_rss(root: int) -> int:
    tree, total, stack = _children(), 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            pass
    return total


def tree_rss_by_kind(root: int) -> dict[str, int]:
    """Resident memory of the process tree split into ``jvm`` (java) and ``python`` (everything
    else: the driver, Spark's Python workers with TensorFlow)."""
    tree, totals, stack = _children(), {"jvm": 0, "python": 0}, [root]
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as handle:
                rss = int(handle.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/comm") as handle:
                kind = "jvm" if handle.read().strip() == "java" else "python"
        except OSError:
            continue
        totals[kind] += rss
    return totals


@dataclass
class Measured:
    returncode: int
    wall_s: float
    peak_total: int
    peak_jvm: int
    peak_python: int
    stdout: str


def run_measured(argv: list[str], **popen) -> Measured:
    """Runs ``argv`` (stdout captured, stderr passed through) sampling its tree every 0.5 s."""
    started = time.monotonic()
    peaks = {"total": 0, "jvm": 0, "python": 0}
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(argv, stdout=out, **popen)
        while process.poll() is None:
            sample = tree_rss_by_kind(process.pid)
            peaks = {"total": max(peaks["total"], sample["jvm"] + sample["python"]),
                     "jvm": max(peaks["jvm"], sample["jvm"]), "python": max(peaks["python"], sample["python"])}
            time.sleep(0.5)
        out.seek(0)
        stdout = out.read()
    return Measured(process.returncode, time.monotonic() - started, peaks["total"], peaks["jvm"], peaks["python"], stdout)


def main() -> int:
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    started = time.monotonic()
    process = subprocess.Popen(args)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.5)
    print(f"measure: exit {process.returncode}, wall {time.monotonic() - started:.0f} s, peak RSS of the process tree {peak / 2**30:.2f} GiB", flush=True)
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
