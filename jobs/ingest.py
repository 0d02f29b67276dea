"""spark-submit entry point for the ingest stage: same flags as `energy-anomaly ingest`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
