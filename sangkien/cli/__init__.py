"""The ``sangkien`` command: one module per command group; the only part of the core that imports flows/."""
