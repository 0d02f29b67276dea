"""The JVM's ahead-of-time cache for the daily update: which JVM gets which options, and on a real
Java 25 (where the machine has one) a record run that leaves a cache the next JVM starts from."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from energy_anomaly import jvm_cache

REPO = Path(__file__).resolve().parents[1]


def fake_java_home(tmp_path: Path, version: str) -> Path:
    home = tmp_path / f"jdk-{version}"
    home.mkdir()
    (home / "release").write_text(f'IMPLEMENTOR="x"\nJAVA_VERSION="{version}"\nJAVA_VERSION_DATE="2026-04-21"\n')
    return home


@pytest.mark.parametrize(
    ("version", "feature"),
    [("25.0.3", 25), ("17.0.15", 17), ("21", 21), ("1.8.0_392", 8), ("26-ea", 26), (None, None), ("x.y", None)],
)
def test_feature_release(version, feature):
    assert jvm_cache.feature_release(version) == feature


def test_no_cache_below_java_25(tmp_path):
    home = fake_java_home(tmp_path, "17.0.15")
    assert jvm_cache.java_release(home) == "17.0.15"
    assert jvm_cache.plan("update", "io.delta:delta-spark_4.2_2.13:4.4.0", home, tmp_path / "cache") is None


def test_no_cache_without_a_release_file(tmp_path):
    assert jvm_cache.plan("update", "d", tmp_path, tmp_path / "cache") is None
    assert jvm_cache.plan("update", "d", None, tmp_path / "cache") is None


def test_records_first_then_uses_what_was_assembled(tmp_path):
    home, cache_dir = fake_java_home(tmp_path, "25.0.3"), tmp_path / "cache"
    first = jvm_cache.plan("update", "io.delta:delta-spark_4.2_2.13:4.4.0", home, cache_dir)
    assert first.mode == "record"
    assert first.cache.parent == cache_dir and first.cache.name.startswith("update-")
    options = first.java_options()
    assert f"-XX:AOTConfiguration={first.recording}" in options and "-XX:AOTMode=record" in options
    assert "-Xlog:aot*=off" in options  # the JVM's notes on the cache stay out of the command's output
    jvm_cache.prepare(first)
    first.cache.write_bytes(b"assembled")
    second = jvm_cache.plan("update", "io.delta:delta-spark_4.2_2.13:4.4.0", home, cache_dir)
    assert second.mode == "use" and second.cache == first.cache
    assert f"-XX:AOTCache={first.cache}" in second.java_options()


def test_the_key_changes_with_java_delta_and_the_command(tmp_path):
    cache_dir = tmp_path / "cache"
    java_a, java_b = fake_java_home(tmp_path, "25.0.3"), fake_java_home(tmp_path, "25.0.4")
    a = jvm_cache.plan("update", "delta-4.4.0", java_a, cache_dir).cache
    assert jvm_cache.plan("update", "delta-4.4.0", java_b, cache_dir).cache != a
    assert jvm_cache.plan("update", "delta-4.5.0", java_a, cache_dir).cache != a
    assert jvm_cache.plan("score", "delta-4.4.0", java_a, cache_dir).cache != a


def test_a_failed_assembly_is_not_retried_on_every_run(tmp_path):
    home, cache_dir = fake_java_home(tmp_path, "25.0.3"), tmp_path / "cache"
    first = jvm_cache.plan("update", "d", home, cache_dir)
    jvm_cache.prepare(first)
    first.cache.with_suffix(".failed").write_text("exit 1\n")
    assert jvm_cache.plan("update", "d", home, cache_dir) is None


def java_25_home() -> Path | None:
    """A Java 25+ installation on this machine, if there is one (CI's image carries Temurin 25)."""
    given = os.environ.get("ENERGY_ANOMALY_TEST_JAVA25_HOME")
    candidates = [Path(given)] if given else sorted(Path("/usr/lib/jvm").glob("*25*"))
    for home in candidates:
        if (jvm_cache.feature_release(jvm_cache.java_release(home)) or 0) >= 25 and (home / "bin" / "java").exists():
            return home
    return None


RUN = textwrap.dedent(
    """
    import sys
    from energy_anomaly import jvm_cache
    from energy_anomaly.config import load_config
    from energy_anomaly.session import build_session

    spark = build_session(load_config().spark, jvm_cache_for="test")
    print("JOB", spark.range(10_000).selectExpr("sum(id) AS s").first()["s"])
    print("MODE", "record" if jvm_cache._recording else "use")
    jvm_cache.finish(spark)
    """
)


@pytest.mark.slow
def test_a_record_run_leaves_a_cache_the_next_jvm_starts_from(tmp_path):
    home = java_25_home()
    if home is None:
        pytest.skip("no Java 25 on this machine")
    env = {**os.environ, "JAVA_HOME": str(home), "ENERGY_ANOMALY_JVM_CACHE_DIR": str(tmp_path / "jvm")}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", RUN], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    first = run()
    assert "JOB 49995000" in first and "MODE record" in first
    caches = list((tmp_path / "jvm").glob("test-*.aot"))
    assert len(caches) == 1 and caches[0].stat().st_size > 10_000_000
    assert not list((tmp_path / "jvm").glob("*.aotconf")) and not list((tmp_path / "jvm").glob("*.partial"))
    second = run()
    assert "JOB 49995000" in second and "MODE use" in second
    # Nothing of the JVM's about the cache reaches the command's output (stdout).
    assert "AOT" not in first + second and "JAVA_TOOL_OPTIONS" not in first + second
