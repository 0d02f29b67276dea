"""spark-submit entry point for the features stage: same flags as `energy-anomaly features`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["features", *sys.argv[1:]]))
