"""``python -m riskoff``: the command line (riskoff.cli)."""
import sys

from riskoff.cli import main

sys.exit(main())
