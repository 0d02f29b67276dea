import sys

from energy_anomaly.cli import main

sys.exit(main())
