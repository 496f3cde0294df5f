"""``python -m ganglion``: the ``ganglion`` command (``ganglion.cli``)."""

import sys

from .cli import main

sys.exit(main())
