"""Errors meant for people: one line that says what is wrong and how to fix it."""
from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input, settings or environment.

    The CLI prints ``str(error)`` as one line and exits non-zero; the traceback is
    shown only with ``--debug``.
    """


class RejectedFile(UserError):
    """A reference file (org tree, quotas, phases) was rejected whole.

    ``problems`` names every offending row, as ``"row N: what is wrong"``.
    """

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        shown = "; ".join(problems[:20])
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{path} rejected, nothing loaded: {shown}{more}")


class ControlTotalError(RuntimeError):
    """received != accepted + ineligible + quarantined for a source in a run."""
