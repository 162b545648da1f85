"""``python -m points_ledger``: the same as the ``points-ledger`` command."""

import sys

from points_ledger.cli import main

if __name__ == "__main__":
    sys.exit(main())
