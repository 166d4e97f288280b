"""``python -m hub``: the same as ``qr-hub``."""

import sys

from hub.cli import main

sys.exit(main())
