"""The file-drop connector: a folder of CSV/XLSX exports, each file read once."""
from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from connectors.base import Batch, Connector, ConnectorError, ErrorType, MappedSourceSettings, RowProblem
from connectors.tabular import FileFormatError, Table, file_digest, read_table


class FilesSettings(MappedSourceSettings):
    """Settings of a file-drop source (YAML keys, as given to `connectors add --config`)."""

    path: str = Field(description="Folder the exports are dropped into (relative to the config file).")
    pattern: str = Field("*.csv", description="Glob of the files to read; .xlsx files are read too.")
    encoding: Literal["auto", "utf-8", "utf-8-sig", "utf-16", "cp1258"] = Field(
        "auto", description="Text encoding of CSV files; auto detects BOMs, UTF-8 and cp1258.")
    delimiter: Literal["auto", ",", ";", "\t", "|"] = Field("auto", description="CSV delimiter; auto sniffs it.")


class FilesConnector(Connector):
    """Reads every new file in a folder; a file's content hash marks it as read."""

    kind: ClassVar[str] = "files"
    description: ClassVar[str] = "A folder of CSV or XLSX exports (file drop)."
    Settings: ClassVar[type[BaseModel]] = FilesSettings
    settings: FilesSettings

    def _folder(self) -> Path:
        folder = Path(self.settings.path)
        if not folder.is_dir():
            raise ConnectorError(f"folder {folder} does not exist or is not a folder; fix `path`",
                                 ErrorType.CONFIGURATION)
        return folder

    def _files(self) -> list[Path]:
        folder = self._folder()
        patterns = {self.settings.pattern}
        if self.settings.pattern.endswith(".csv"):
            patterns.add(self.settings.pattern[:-4] + ".xlsx")
        return sorted({p for pat in patterns for p in folder.glob(pat) if p.is_file()})

    def check(self) -> str:
        files = self._files()
        if not files:
            return f"folder {self.settings.path} is readable; no file matches {self.settings.pattern!r} yet"
        table = self._read(files[0])
        self._missing_columns(table)
        return f"{len(files)} file(s) match {self.settings.pattern!r}; {files[0].name} has every mapped column"

    def _read(self, path: Path) -> Table:
        try:
            return read_table(path, encoding=self.settings.encoding, delimiter=self.settings.delimiter,
                              date_format=self.settings.date_format)
        except FileFormatError as exc:
            raise ConnectorError(str(exc), ErrorType.SOURCE) from None
        except OSError as exc:
            raise ConnectorError(f"{path.name}: cannot read ({exc.strerror})", ErrorType.TRANSIENT) from None

    def _missing_columns(self, table: Table) -> None:
        missing = []
        for field, header in self.columns.items():
            if header not in table.headers:
                close = difflib.get_close_matches(header, table.headers, 1, 0.6)
                hint = f" (closest: {close[0]!r})" if close else ""
                missing.append(f"{header!r} for {field}{hint}")
        if missing:
            raise ConnectorError(f"{table.path.name}: column(s) not found: {', '.join(missing)}; "
                                 f"the file's headers are {', '.join(map(repr, table.headers))}",
                                 ErrorType.CONFIGURATION)

    def read(self, state: dict[str, Any]) -> Iterator[Batch]:
        seen: dict[str, Any] = dict(state.get("files", {}))
        for path in self._files():
            digest = file_digest(path)
            if digest in seen:
                continue
            try:
                table = self._read(path)
                self._missing_columns(table)
            except ConnectorError as exc:
                yield Batch(path.name, rows=None,  # a failed unit has no rows
                            headers=[], state={"files": dict(seen)}, problem=exc)
                continue
            rows = table.frame
            rows["_origin"] = path.name + ":" + rows.pop("_line").astype(str)
            problems = [RowProblem(f"{path.name}:{e.line}", e.message, e.raw) for e in table.row_errors]
            seen[digest] = {"name": path.name, "rows": len(rows) + len(problems),
                            "read_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            yield Batch(path.name, rows=rows, headers=table.headers, state={"files": dict(seen)},
                        row_problems=problems)
