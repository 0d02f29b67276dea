"""spark-submit entry point for the evaluate stage: same flags as `energy-anomaly evaluate`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
