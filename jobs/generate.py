"""spark-submit entry point for the generate stage: same flags as `energy-anomaly generate`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
