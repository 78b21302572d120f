"""A connector kind shipped as its own package, as a province would ship one: JSON-lines files.

The conformance suite (tests/edges/test_conformance.py) installs this module on the fly as
a distribution, ``sangkien-testkind``, whose entry point in the ``sangkien.connectors``
group names ``JsonLinesConnector``; ``connectors.kinds.connector_kinds()`` then finds it,
and the suite holds it to the same contract as the built-in kinds.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from connectors.base import Batch, Connector, ConnectorError, ErrorType, MappedSourceSettings, batch_from_records


class JsonLinesSettings(MappedSourceSettings):
    """Settings of a JSON-lines file source."""

    path: str = Field(description="A file of JSON records, one per line.")
    batch_size: int = Field(100, ge=1, description="Records per batch.")


class JsonLinesConnector(Connector):
    """Reads a JSON-lines file ``batch_size`` records at a time; the state is the next line to read."""

    kind: ClassVar[str] = "jsonl"
    description: ClassVar[str] = "A file of JSON records, one per line (a kind from its own package)."
    Settings: ClassVar[type[BaseModel]] = JsonLinesSettings
    settings: JsonLinesSettings

    def _lines(self) -> list[str]:
        try:
            text = Path(self.settings.path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConnectorError(f"{self.settings.path} does not exist; fix `path`", ErrorType.CONFIGURATION) from None
        except OSError as exc:
            raise ConnectorError(f"{self.settings.path}: cannot read ({exc.strerror})", ErrorType.TRANSIENT) from None
        return [line for line in text.splitlines() if line.strip()]

    def check(self) -> str:
        return f"{self.settings.path} holds {len(self._lines())} record(s)"

    def read(self, state: dict[str, Any]) -> Iterator[Batch]:
        lines, size = self._lines(), self.settings.batch_size
        for start in range(int(state.get("line", 0)), len(lines), size):
            try:
                records = [json.loads(line) for line in lines[start:start + size]]
            except ValueError as exc:
                raise ConnectorError(f"{self.settings.path}: not JSON lines ({exc})", ErrorType.SOURCE) from None
            yield batch_from_records(f"lines {start + 1}-{start + len(records)}", records,
                                     {"line": start + len(records)}, self.columns["source_record_id"])
