"""``python -m sandbox.servers``: see :mod:`sandbox.servers.cli`."""

import sys

from sandbox.servers.cli import main

sys.exit(main())
