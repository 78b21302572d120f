"""The file-drop connector: a folder of CSV/XLSX exports, each file read once."""
from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from connectors.base import Batch, Connector, ConnectorError, ErrorType, MappedSourceSettings, RowProblem
from connectors.tabular import FileFormatError, Table, file_digest, read_tables


class FilesSettings(MappedSourceSettings):
    """Settings of a file-drop source (YAML keys, as given to `connectors add --config`)."""

    path: str = Field(description="Folder the exports are dropped into (relative to the config file).")
    pattern: str = Field("*.csv", description="Glob of the files to read; .xlsx files are read too.")
    encoding: Literal["auto", "utf-8", "utf-8-sig", "utf-16", "cp1258"] = Field(
        "auto", description="Text encoding of CSV files; auto detects BOMs, UTF-8 and cp1258.")
    delimiter: Literal["auto", ",", ";", "\t", "|"] = Field("auto", description="CSV delimiter; auto sniffs it.")
    header_row: int | None = Field(None, ge=1, description="Line (CSV) or row (XLSX) of the header; empty = found "
                                                          "by the mapped column names, under any title rows.")
    sheets: list[str] | None = Field(None, description="XLSX: the sheets to read, by name (a list, or names "
                                                       "separated by commas), or '*' for every sheet; empty = the "
                                                       "first sheet with data.")

    @field_validator("sheets", mode="before")
    @classmethod
    def _sheet_names(cls, value: Any) -> Any:
        """`--set sheets=*` or `--set 'sheets=Quý 3,Quý 4'` as well as a YAML list."""
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()] or None
        return value


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
        for path in files:  # every file a sync would read, CSV and XLSX alike
            for table in self._read(path):
                self._missing_columns(table)
        kinds = sorted({p.suffix.lower().lstrip(".") or "no extension" for p in files})
        return (f"{len(files)} file(s) match {self.settings.pattern!r} ({', '.join(kinds)}); "
                f"each has every mapped column")

    def sample(self, rows: int) -> Iterator[Batch]:
        """The first ``rows`` rows of every file a sync would read (a file that cannot be read: its problem)."""
        return self._first_rows(rows, mapped=True)

    def discover(self, rows: int) -> Iterator[Batch]:
        return self._first_rows(rows, mapped=False)

    def _first_rows(self, rows: int, mapped: bool) -> Iterator[Batch]:
        for path in self._files():
            try:
                tables = self._read(path)
                if mapped:
                    for table in tables:
                        self._missing_columns(table)
            except ConnectorError as exc:
                yield Batch(path.name, rows=None, headers=[], state={}, problem=exc)
                continue
            for table in tables:
                yield self._batch(table, {}, limit=rows)

    def _read(self, path: Path) -> list[Table]:
        """The file's tables: one for a CSV, one per sheet read of a workbook (see ``sheets``)."""
        try:
            return read_tables(path, encoding=self.settings.encoding, delimiter=self.settings.delimiter,
                               date_format=self.settings.date_format, header_row=self.settings.header_row,
                               header_names=self._header_names(), date_columns=self._date_columns(),
                               sheets=self.settings.sheets)
        except FileFormatError as exc:
            raise ConnectorError(str(exc), ErrorType.SOURCE) from None
        except OSError as exc:
            raise ConnectorError(f"{path.name}: cannot read ({exc.strerror})", ErrorType.TRANSIENT) from None

    def _header_names(self) -> list[str]:
        """The mapped column names, which mark the header row under any title rows."""
        return list(self.columns.values())

    def _date_columns(self) -> list[str]:
        """The mapped date columns: a workbook may hold their dates as serial numbers."""
        return [self.columns[f] for f in ("recognized_on", "applied_on", "submitted_at", "updated_at")
                if self.columns.get(f)]

    def _missing_columns(self, table: Table) -> None:
        missing = []
        for field, header in self.columns.items():
            if header not in table.headers:
                close = difflib.get_close_matches(header, table.headers, 1, 0.6)
                hint = f" (closest: {close[0]!r})" if close else ""
                missing.append(f"{header!r} for {field}{hint}")
        if missing:
            raise ConnectorError(f"{_label(table)}: column(s) not found: {', '.join(missing)}; "
                                 f"the file's headers are {', '.join(map(repr, table.headers))}",
                                 ErrorType.CONFIGURATION)

    def read(self, state: dict[str, Any]) -> Iterator[Batch]:
        seen: dict[str, Any] = dict(state.get("files", {}))
        for path in self._files():
            digest = file_digest(path)
            if digest in seen:
                continue
            try:
                tables = self._read(path)
                for table in tables:
                    self._missing_columns(table)
            except ConnectorError as exc:
                yield Batch(path.name, rows=None,  # a failed unit has no rows
                            headers=[], state={"files": dict(seen)}, problem=exc)
                continue
            for i, table in enumerate(tables):
                if i == len(tables) - 1:  # the file counts as read with its last sheet
                    seen[digest] = {"name": path.name, "rows": sum(len(t.frame) + len(t.row_errors) for t in tables),
                                    "read_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
                yield self._batch(table, {"files": dict(seen)})

    @staticmethod
    def _batch(table: Table, state: dict[str, Any], limit: int | None = None) -> Batch:
        """A file's (or sheet's) rows as a batch, each row's origin file:line (file[sheet]:row), the first ``limit``
        rows only if given."""
        name = _label(table)
        rows = table.frame if limit is None else table.frame.iloc[:limit].reset_index(drop=True)
        rows["_origin"] = name + ":" + rows.pop("_line").astype(str)
        errors = table.row_errors if limit is None else table.row_errors[:limit]
        problems = [RowProblem(f"{name}:{e.line}", e.message, e.raw) for e in errors]
        return Batch(name, rows=rows, headers=table.headers, state=state, row_problems=problems)


def _label(table: Table) -> str:
    """How people find a table: the file's name, and its sheet when sheets are named or all read."""
    return f"{table.path.name}[{table.sheet}]" if table.sheet else table.path.name
