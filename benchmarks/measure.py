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


def _program(pid: int) -> tuple[str, bytes]:
    """(executable, command line) of a process: what it runs."""
    try:
        executable = os.readlink(f"/proc/{pid}/exe")
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return executable, handle.read()
    except OSError:
        return "", b""


def tree_rss_by_kind(root: int) -> dict[str, int]:
    """Resident memory of the process tree split into ``jvm`` (java) and ``python`` (everything
    else: the driver, Spark's Python workers with TensorFlow).

    A JVM's child that still runs the JVM's program, command line and all, is a process it is
    starting (Hadoop's shell commands, through ``jspawnhelper``) before its ``exec``: it shares
    the JVM's memory, and its resident size, the JVM's, is not counted again. A JVM the JVM
    starts (a standalone worker's executor) has a command line of its own and is counted."""
    tree, totals, stack = _children(), {"jvm": 0, "python": 0}, [(root, ("", b""))]
    while stack:
        pid, parent_program = stack.pop()
        program = _program(pid)
        stack.extend((child, program) for child in tree.get(pid, []))
        is_jvm = os.path.basename(program[0]) == "java"
        if is_jvm and program == parent_program:
            continue
        try:
            with open(f"/proc/{pid}/statm") as handle:
                rss = int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
        totals["jvm" if is_jvm else "python"] += rss
    return totals


@dataclass
class Measured:
    returncode: int
    wall_s: float
    peak_total: int
    peak_jvm: int
    peak_python: int
    stdout: str


def run_measured(argv: list[str], capture: bool = True, **popen) -> Measured:
    """Runs ``argv`` sampling its tree every 0.5 s; stdout captured into ``Measured.stdout``
    (or passed through with ``capture=False``), stderr passed through."""
    started = time.monotonic()
    peaks = {"total": 0, "jvm": 0, "python": 0}
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(argv, stdout=out if capture else None, **popen)
        while process.poll() is None:
            sample = tree_rss_by_kind(process.pid)
            peaks = {
                "total": max(peaks["total"], sample["jvm"] + sample["python"]),
                "jvm": max(peaks["jvm"], sample["jvm"]),
                "python": max(peaks["python"], sample["python"]),
            }
            time.sleep(0.5)
        out.seek(0)
        stdout = out.read()
    return Measured(
        process.returncode, time.monotonic() - started, peaks["total"], peaks["jvm"], peaks["python"], stdout
    )


def main() -> int:
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    measured = run_measured(args, capture=False)
    print(
        f"measure: exit {measured.returncode}, wall {measured.wall_s:.0f} s, peak RSS of the process tree "
        f"{measured.peak_total / 2**30:.2f} GiB "
        f"(JVM {measured.peak_jvm / 2**30:.2f}, Python {measured.peak_python / 2**30:.2f})",
        flush=True,
    )
    return measured.returncode


if __name__ == "__main__":
    sys.exit(main())
