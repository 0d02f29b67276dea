"""A real Spark standalone cluster on 127.0.0.1 for the delivery tests: one master and workers
started from the pyspark installation (``spark-class ...Master`` / ``...Worker``), stopped by the
process ids this helper started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

SPARK_HOME = Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spark_env() -> dict[str, str]:
    env = dict(os.environ, SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP="127.0.0.1", SPARK_NO_DAEMONIZE="1")
    env.pop("PYSPARK_GATEWAY_PORT", None)
    env.pop("PYSPARK_GATEWAY_SECRET", None)
    return env


def dependencies_env(folder: Path, wheel: Path | None = None) -> Path:
    """A Python that has the pinned dependencies but not this package: what a cluster node's shared
    environment holds, so the code can only reach driver and executors through ``--py-files``.
    (A venv whose one ``.pth`` line adds this environment's site-packages; site-packages' own
    ``.pth`` files, the editable install among them, are not processed from such a line.)

    With ``wheel``, the venv gets its own pip and that wheel installed (``--no-deps``, before the
    dependencies are visible, so pip sees a venv with nothing in it)."""
    if wheel is None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    else:
        # No PYTHONPATH: a source tree on it would look like the package installed already.
        clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, env=clean)
        subprocess.run(
            [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
            check=True,
            env=clean,
        )
    purelib = Path(
        subprocess.run(
            [str(folder / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder / "bin" / "python"


@dataclass
class StandaloneCluster:
    """``with StandaloneCluster(work_dir, workers=2) as cluster:`` -> ``cluster.master_url``."""

    work_dir: Path
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "2g"
    processes: list[subprocess.Popen] = field(default_factory=list)
    master_url: str = ""

    def __enter__(self) -> "StandaloneCluster":
        self.work_dir.mkdir(parents=True, exist_ok=True)
        port, ui_port = free_port(), free_port()
        self.master_url = f"spark://127.0.0.1:{port}"
        self.ui_url = f"http://127.0.0.1:{ui_port}/json/"
        try:
            self._start(
                "master",
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                str(ui_port),
            )
            self._wait(lambda state: state.get("status") == "ALIVE", "the master to be alive")
            for n in range(self.workers):
                self._start(
                    f"worker-{n}",
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--webui-port",
                    str(free_port()),
                    "--cores",
                    str(self.worker_cores),
                    "--memory",
                    self.worker_memory,
                    "--work-dir",
                    str(self.work_dir / f"worker-{n}"),
                    self.master_url,
                )
            self._wait(
                lambda state: state.get("aliveworkers", 0) >= self.workers, f"{self.workers} workers to register"
            )
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start(self, name: str, main_class: str, *args: str) -> None:
        log = open(self.work_dir / f"{name}.log", "wb")
        self.processes.append(
            subprocess.Popen(
                [str(SPARK_HOME / "bin" / "spark-class"), main_class, *args],
                env=spark_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )
        log.close()

    def state(self) -> dict:
        with urllib.request.urlopen(self.ui_url, timeout=5) as response:
            return json.load(response)

    def _wait(self, ready, what: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"a cluster process exited ({process.args[1]}) while waiting for {what}: {self.logs()}"
                    )
            try:
                if ready(self.state()):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"waited {timeout:.0f} s for {what}: {self.logs()}")

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-tail:]}" for log in sorted(self.work_dir.glob("*.log"))
        )

    def stop(self) -> None:
        """Stops exactly the processes started here (workers first), by process id."""
        for process in reversed(self.processes):
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


@dataclass
class ConnectServer:
    """``with ConnectServer(work_dir) as server:`` -> ``server.url`` (``sc://127.0.0.1:<port>``):
    pyspark's own Spark Connect server (``spark-connect_2.13`` ships in its jars) in local mode,
    started as Databricks' is, with Delta's jars and extensions; its Python workers run this
    environment's interpreter."""

    work_dir: Path
    cores: int = 2
    memory: str = "3g"
    process: subprocess.Popen | None = None
    url: str = ""

    def __enter__(self) -> "ConnectServer":
        from energy_anomaly.config import SparkConfig
        from energy_anomaly.session import JOB_CONF, SERVER_ONLY_CONF, delta_jar_conf

        self.work_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.url = f"sc://127.0.0.1:{port}"
        conf = {
            **delta_jar_conf(SparkConfig().delta_package),
            **{key: JOB_CONF[key] for key in SERVER_ONLY_CONF},
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
            "spark.ui.enabled": "false",
        }
        argv = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", f"local[{self.cores}]"]
        argv += ["--driver-memory", self.memory, "--class", "org.apache.spark.sql.connect.service.SparkConnectServer"]
        for key, value in conf.items():
            argv += ["--conf", f"{key}={value}"]
        log = open(self.work_dir / "connect-server.log", "wb")
        self.process = subprocess.Popen(
            [*argv, "spark-internal"],
            # The server runs Spark Connect clients' UDFs with PYSPARK_PYTHON (spark.pyspark.python
            # applies to Python applications, which the server is not).
            env=dict(spark_env(), PYSPARK_PYTHON=sys.executable),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + 120
        while "Spark Connect server started" not in self.logs():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Spark Connect server did not start: {self.logs()[-3000:]}")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def logs(self) -> str:
        return (self.work_dir / "connect-server.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
