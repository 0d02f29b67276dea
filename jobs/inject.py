"""spark-submit entry point for the inject stage: same flags as `energy-anomaly inject`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["inject", *sys.argv[1:]]))
