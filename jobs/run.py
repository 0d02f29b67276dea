"""spark-submit entry point for the run stage: same flags as `energy-anomaly run`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
