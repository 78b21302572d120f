"""Push the reconciled totals to the tier above (the ``push`` deployment, after the nightly sync).

Pushing upward is not built yet (its own issue). Until it is, this flow fails at once
with a message saying so, rather than pretending to push: an operator who sees the
failure knows exactly why, and nothing upstream receives made-up totals.
"""
from __future__ import annotations

from prefect import flow


class UpstreamNotConfigured(RuntimeError):
    """This node has no upstream to push to (pushing upward is not built yet)."""


@flow(name="sangkien-push-upward")
def push_upward(db_url: str | None = None) -> dict[str, object]:
    """Push this node's reconciled unit counts to its upstream node.

    Not built yet: raises UpstreamNotConfigured. The push issue replaces the body with a call
    to its core function (sangkien/, free of Prefect), keeping this flow a few lines.
    """
    raise UpstreamNotConfigured(
        "no upstream configured: pushing counts to the tier above is not built yet in this version of "
        "sangkien-sync, so nothing was pushed")
