"""spark-submit entry point for the maintain step: same flags as `energy-anomaly maintain`."""

import sys

from energy_anomaly.cli import main

if __name__ == "__main__":
    sys.exit(main(["maintain", *sys.argv[1:]]))
