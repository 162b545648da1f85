"""``python -m points_ledger``: the same as the ``points-ledger`` command."""

import sys

from points_ledger.cli import main

sys.exit(main())
