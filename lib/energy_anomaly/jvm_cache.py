"""The JVM's ahead-of-time cache for the daily update (Java 25 and later, embedded Spark only).

A scheduled ``update`` is a new JVM each day: it loads ~20,000 classes and compiles Spark's, Delta's
and Parquet's hot methods again before its small batch is done, and that warm-up is most of the
update's CPU. Java 25's AOT cache (JEPs 483, 514, 515) keeps the loaded and linked classes and the
methods' execution profiles of one run for the next, so the next JVM starts linked and compiles
the hot methods at once.

- The first update on a JVM that has none records (``-XX:AOTMode=record``); after its work, the
  JVM is shut down and the cache assembled from the recording (``-XX:AOTMode=create``) into a
  temporary file that is then renamed into place, so a killed run leaves no half-written cache.
- Later updates start with ``-XX:AOTCache``. The JVM checks the cache against its own version and
  the class path (jar names, sizes, times): after an upgrade it starts without it, as it would
  with none, and the cache is assembled again when its key (Java release, pyspark, Delta) changes.
- The cache is kept under the user's cache folder (``ENERGY_ANOMALY_JVM_CACHE_DIR`` to move it),
  beside the Delta jars, never in the warehouse or a landing zone: it is code the JVM runs, so it
  lives where only this user's installs write.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

CACHE_DIR = Path(os.environ.get("ENERGY_ANOMALY_JVM_CACHE_DIR", Path.home() / ".cache" / "energy-anomaly" / "jvm"))
FIRST_RELEASE = 25  # JDK 25: AOT caches with one-run profiles (JEP 515) and the create mode used here
# The JVM's notes on the cache would go to the command's stdout: logging off, and the one line a
# record run prints as it exits to stderr.
QUIET = "-Xlog:aot*=off -Xlog:cds*=off -XX:+DisplayVMOutputToStderr"
ASSEMBLE_TIMEOUT_S = 600


@dataclass(frozen=True)
class CachePlan:
    """What the session's JVM does with the cache: ``use`` it, or ``record`` for it."""

    mode: str  # "use" or "record"
    cache: Path
    recording: Path  # the record run's output, assembled into ``cache`` afterwards

    def java_options(self) -> str:
        if self.mode == "use":
            return f"-XX:AOTCache={self.cache} {QUIET}"
        return f"-XX:AOTMode=record -XX:AOTConfiguration={self.recording} {QUIET}"


def launcher_java_home() -> Path | None:
    """The Java installation Spark's launcher runs: ``JAVA_HOME``, else ``java`` on the PATH."""
    if os.environ.get("JAVA_HOME"):
        return Path(os.environ["JAVA_HOME"])
    java = shutil.which("java")
    return Path(java).resolve().parent.parent if java else None


def java_release(java_home: Path | None) -> str | None:
    """``JAVA_VERSION`` of the installation's ``release`` file (e.g. ``25.0.3``), if it has one."""
    if java_home is None:
        return None
    try:
        text = (java_home / "release").read_text()
    except OSError:
        return None
    found = re.search(r'^JAVA_VERSION="([^"]+)"', text, re.MULTILINE)
    return found.group(1) if found else None


def feature_release(version: str | None) -> int | None:
    """25 for ``25.0.3``, 17 for ``17.0.15``; 8 for ``1.8.0_392``."""
    if not version:
        return None
    parts = version.split(".")
    try:
        return int(parts[1]) if parts[0] == "1" and len(parts) > 1 else int(parts[0].split("-")[0].split("+")[0])
    except ValueError:
        return None


def plan(
    name: str, delta_package: str, java_home: Path | None = None, cache_dir: Path | None = None
) -> CachePlan | None:
    """The cache plan for the command ``name``; None below Java 25 (or no Java found)."""
    java_home = java_home if java_home is not None else launcher_java_home()
    release = java_release(java_home)
    if (feature_release(release) or 0) < FIRST_RELEASE:
        return None
    import pyspark

    key = hashlib.sha256(f"{java_home}|{release}|{pyspark.__version__}|{delta_package}".encode()).hexdigest()[:16]
    folder = cache_dir if cache_dir is not None else CACHE_DIR
    cache = folder / f"{name}-{key}.aot"
    if _failed(cache).exists():  # assembling failed on this JVM once: not tried on every run
        return None
    recording = folder / f"{name}-{key}.{os.getpid()}.aotconf"
    return CachePlan("use" if cache.is_file() else "record", cache, recording)


def _failed(cache: Path) -> Path:
    return cache.with_suffix(".failed")


def prepare(cache_plan: CachePlan) -> None:
    """Makes the cache's folder; drops the recordings of earlier runs that ended before
    assembling theirs (a failed command still writes its recording as its JVM exits)."""
    cache_plan.cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in cache_plan.cache.parent.glob(f"{cache_plan.cache.stem}.*.aotconf"):
        pid = stale.suffixes[-2].lstrip(".")
        if stale != cache_plan.recording and not (pid.isdigit() and _alive(int(pid))):
            stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_recording: list[CachePlan] = []  # the record run this process's JVM is, if it is one


def started(cache_plan: CachePlan) -> None:
    _recording.clear()
    if cache_plan.mode == "record":
        _recording.append(cache_plan)


def finish(spark) -> None:
    """At the end of a command that asked for a cache: assembles it if this JVM recorded one
    (which stops the session); otherwise nothing."""
    if _recording:
        assemble(_recording.pop(), spark)


def assemble(cache_plan: CachePlan, spark) -> None:
    """After a record run's work: shuts its JVM down (it writes the recording as it exits) and
    assembles the cache from it with the JVM's own options and class path. Failing here costs the
    next run its head start, not this run its result: it is logged, not raised."""
    from pyspark import SparkContext

    jvm = spark.sparkContext._jvm
    java_home = Path(jvm.java.lang.System.getProperty("java.home"))
    class_path = jvm.java.lang.System.getProperty("java.class.path")
    options = [
        str(o)
        for o in jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
        if not str(o).startswith(("-XX:AOT", "-Xlog:"))
    ]
    spark.stop()
    gateway = SparkContext._gateway
    process = getattr(gateway, "proc", None)
    if process is None:
        logger.warning("JVM cache: the JVM was not started here; no cache assembled")
        return
    gateway.shutdown()
    process.stdin.close()  # the gateway JVM exits when its stdin closes
    process.wait(timeout=ASSEMBLE_TIMEOUT_S)
    SparkContext._gateway = SparkContext._jvm = None
    if not cache_plan.recording.is_file():
        logger.warning("JVM cache: the JVM wrote no recording; no cache assembled")
        return
    partial = cache_plan.cache.with_suffix(f".{os.getpid()}.partial")
    command = [
        str(java_home / "bin" / "java"),
        *options,
        "-XX:AOTMode=create",
        f"-XX:AOTConfiguration={cache_plan.recording}",
        f"-XX:AOTCache={partial}",
        "-cp",
        class_path,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=ASSEMBLE_TIMEOUT_S)
        if done.returncode == 0 and partial.is_file():
            partial.replace(cache_plan.cache)
            size_mb = cache_plan.cache.stat().st_size / 1e6
            logger.info("JVM cache: %s (%.0f MB) for the next run", cache_plan.cache, size_mb)
            return
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        failure = f"exit {done.returncode}: " + " | ".join(tail)
    except subprocess.TimeoutExpired:
        failure = f"took over {ASSEMBLE_TIMEOUT_S} s"
    finally:
        cache_plan.recording.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    # An exit or a timeout would recur on the next record run: the marker makes later runs skip it.
    logger.warning("JVM cache: assembling failed (%s)", failure)
    _failed(cache_plan.cache).write_text(failure + "\n")
