"""``python -m cordon.cli``: the ``cordon`` command."""

import sys

from . import main

sys.exit(main())
