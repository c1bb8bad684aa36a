"""``python -m csmetrics``: the command line."""

import sys

from csmetrics.cli import main

sys.exit(main())
