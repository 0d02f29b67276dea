"""spark-submit entry point for the protocol stage: same flags as `energy-anomaly protocol`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["protocol", *sys.argv[1:]]))
