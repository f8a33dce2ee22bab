"""``python -m broker`` is ``headwater broker``."""

import sys

from broker.cli import main

if __name__ == "__main__":
    sys.exit(main(["broker", *sys.argv[1:]]))
