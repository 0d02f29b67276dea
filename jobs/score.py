"""spark-submit entry point for the score stage: same flags as `energy-anomaly score`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["score", *sys.argv[1:]]))
