"""spark-submit entry point for the clean stage: same flags as `energy-anomaly clean`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["clean", *sys.argv[1:]]))
