"""Shipping the package to a Spark cluster: a zip for ``spark-submit --py-files`` and the command.

Spark puts ``.zip``/``.egg`` files given to ``--py-files`` on the driver's and every executor's
``sys.path`` (a ``.whl`` it would copy but not import from), so the package travels as a zip of
``energy_anomaly/`` with its data files. The native dependencies (TensorFlow, scikit-learn,
pandas, pyarrow) are not in it: the nodes' Python has them, either a shared environment installed
from ``constraints.txt`` at the same path on every node, or a packed one sent with
``--archives env.tar.gz#env`` (see the README).
"""

from __future__ import annotations

import shlex
import zipfile
from pathlib import Path

import energy_anomaly
from energy_anomaly.session import DELTA_EXCLUDES, IVY_DIR

PACKAGE_DIR = Path(energy_anomaly.__file__).resolve().parent
# Fixed member timestamps: the same sources give a byte-identical zip.
_ZIP_TIME = (2013, 1, 1, 0, 0, 0)


def package_zip(output_dir: str | Path) -> Path:
    """Writes ``energy_anomaly-<version>.zip`` (sources and package data, no caches) into ``output_dir``."""
    if not PACKAGE_DIR.is_dir():
        raise RuntimeError(f"the package is not a folder on disk ({PACKAGE_DIR}): build the zip from a source checkout")
    output = Path(output_dir) / f"energy_anomaly-{energy_anomaly.__version__}.zip"
    output.parent.mkdir(parents=True, exist_ok=True)
    members = sorted(
        path
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")
    )
    partial = output.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in members:
            info = zipfile.ZipInfo(str(Path("energy_anomaly") / path.relative_to(PACKAGE_DIR)), date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    partial.replace(output)
    return output


def submit_command(
    job: str,
    job_args: list[str],
    *,
    master: str,
    py_files: str | Path,
    delta_package: str,
    python: str | None = None,
    conf: dict[str, str] | None = None,
    spark_submit: str = "spark-submit",
) -> list[str]:
    """The ``spark-submit`` argv for ``jobs/<job>.py``: Delta from Maven Central through Ivy (cached
    in the same folder as the embedded default), the package zip on ``--py-files``, and ``python``
    (the nodes' interpreter, when it is not the default ``python3``) for driver and executors."""
    argv = [
        spark_submit,
        "--master",
        master,
        "--deploy-mode",
        "client",
        "--packages",
        delta_package,
        "--exclude-packages",
        ",".join(DELTA_EXCLUDES),
        "--conf",
        f"spark.jars.ivy={IVY_DIR}",
        "--py-files",
        str(py_files),
    ]
    settings = dict(conf or {})
    if python:
        settings.setdefault("spark.pyspark.python", python)
        settings.setdefault("spark.pyspark.driver.python", python)
    for key, value in settings.items():
        argv += ["--conf", f"{key}={value}"]
    return [*argv, str(Path("jobs") / f"{job}.py"), *job_args]


def shell_line(argv: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in argv)
