"""spark-submit entry point for the promote step: same flags as `energy-anomaly promote`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["promote", *sys.argv[1:]]))
