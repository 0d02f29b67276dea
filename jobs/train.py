"""spark-submit entry point for the train stage: same flags as `energy-anomaly train`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
