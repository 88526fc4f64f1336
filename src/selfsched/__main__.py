"""``python -m selfsched``: the same as the ``selfsched`` console script."""

import sys

from selfsched._cli import main

if __name__ == "__main__":
    sys.exit(main())
