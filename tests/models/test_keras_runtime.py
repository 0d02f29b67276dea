"""TensorFlow's load-time chatter stays out of the commands' output; what else it writes stays in."""

import subprocess
import sys

from energy_anomaly.config import REPO_ROOT

SCRIPT = """
import os, sys
from energy_anomaly.models.keras_runtime import keras, without_load_notices
with without_load_notices():
    os.write(2, b"an error TensorFlow printed\\n")
keras()
print("loaded", file=sys.stderr)
"""


def test_tensorflow_load_notices_are_held_back_and_other_output_is_not():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT / "lib")},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "an error TensorFlow printed" in done.stderr
    assert "loaded" in done.stderr
    assert "oneDNN" not in done.stderr and "absl::InitializeLog" not in done.stderr
