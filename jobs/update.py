"""spark-submit entry point for the daily update: same flags as `energy-anomaly update`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["update", *sys.argv[1:]]))
