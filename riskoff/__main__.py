"""``python -m riskoff``: the same as the ``riskoff`` command."""
import sys

from riskoff.cli import main

sys.exit(main())
