"""Secret settings: stored as references, resolved only when a connector runs.

A secret setting holds ``env:NAME`` (an environment variable of the process that runs
the sync) or ``prefect-secret:BLOCK`` (a Prefect Secret block). The value itself is
never stored, printed or logged; ``redact`` masks it in any text that might carry it.
"""
from __future__ import annotations

import os
import re
from typing import Annotated

from pydantic import AfterValidator

from connectors.base import ConnectorError, ErrorType

_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|prefect-secret:[a-z0-9][a-z0-9-]*)$")


def _check_reference(value: str) -> str:
    if not _REF.match(value or ""):
        raise ValueError("must reference a secret, not hold it: env:VARIABLE_NAME or prefect-secret:block-name "
                         "(the value itself is never stored)")
    return value


SecretRef = Annotated[str, AfterValidator(_check_reference)]

_resolved: set[str] = set()  # values handed out in this process, masked by redact()


def resolve(reference: str, setting: str) -> str:
    """The secret's value; ConnectorError (configuration) when it cannot be found."""
    kind, _, name = reference.partition(":")
    if kind == "env":
        value = os.environ.get(name)
        if not value:
            raise ConnectorError(f"{setting}: environment variable {name} is not set for the process running the sync",
                                 ErrorType.CONFIGURATION)
    else:
        try:
            from prefect.blocks.system import Secret

            value = Secret.load(name).get()  # type: ignore[union-attr]  # load is sync outside an event loop
        except Exception as exc:
            raise ConnectorError(f"{setting}: Prefect Secret block {name!r} cannot be loaded ({type(exc).__name__})",
                                 ErrorType.CONFIGURATION) from None
        value = str(value)
    _resolved.add(value)
    return value


def redact(text: str) -> str:
    """``text`` with every secret value resolved in this process, and URL credentials, masked."""
    for value in _resolved:
        if value:
            text = text.replace(value, "***")
    text = re.sub(r"(?i)(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)
    return re.sub(r"(?i)((?:token|api_key|apikey|key|password)=)[^&\s]+", r"\1***", text)
