"""``python -m orchestrix.promql FILE...`` runs promqltest scripts (see ``cli.py``)."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
