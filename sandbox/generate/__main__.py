"""``python -m sandbox.generate``: see :mod:`sandbox.generate.cli`."""

import sys

from sandbox.generate.cli import main

sys.exit(main())
