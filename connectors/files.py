"""The file-drop connector: a folder of CSV/XLSX exports, each file read once."""
from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.base import CANONICAL_FIELDS, REQUIRED_FIELDS, Batch, Connector, ConnectorError, RowProblem
from connectors.tabular import FileFormatError, Table, file_digest, read_table


class FilesSettings(BaseModel):
    """Settings of a file-drop source (YAML keys, as given to `connectors add --config`)."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Folder the exports are dropped into (relative to the config file).")
    pattern: str = Field("*.csv", description="Glob of the files to read; .xlsx files are read too.")
    encoding: Literal["auto", "utf-8", "utf-8-sig", "utf-16", "cp1258"] = Field(
        "auto", description="Text encoding of CSV files; auto detects BOMs, UTF-8 and cp1258.")
    delimiter: Literal["auto", ",", ";", "\t", "|"] = Field("auto", description="CSV delimiter; auto sniffs it.")
    date_format: str = Field("%d/%m/%Y", description="strptime format of every date column.")
    authors_separator: str = Field(";", min_length=1, description="What separates authors in the authors column.")
    columns: dict[str, str] = Field(description="Canonical field → the header of that column in the files.")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = [k for k in columns if k not in CANONICAL_FIELDS]
        if unknown:
            hints = [f"{k!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, CANONICAL_FIELDS, 1))
                     else repr(k) for k in unknown]
            raise ValueError(f"unknown field(s) {', '.join(hints)}; fields are {', '.join(CANONICAL_FIELDS)}")
        missing = [k for k in REQUIRED_FIELDS if not columns.get(k)]
        if missing:
            raise ValueError(f"no column given for required field(s) {', '.join(missing)}")
        return columns

    @field_validator("date_format")
    @classmethod
    def _usable_format(cls, fmt: str) -> str:
        if "%" not in fmt:
            raise ValueError(f"{fmt!r} is not a strptime format (e.g. %d/%m/%Y)")
        sample = dt.date(2022, 5, 31).strftime(fmt)
        try:
            dt.datetime.strptime(sample, fmt)
        except ValueError as exc:
            raise ValueError(f"{fmt!r} cannot read its own output: {exc}") from None
        return fmt


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
                                 "configuration")
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
            raise ConnectorError(str(exc), "source") from None
        except OSError as exc:
            raise ConnectorError(f"{path.name}: cannot read ({exc.strerror})", "transient") from None

    def _missing_columns(self, table: Table) -> None:
        missing = []
        for field, header in self.columns.items():
            if header not in table.headers:
                close = difflib.get_close_matches(header, table.headers, 1, 0.6)
                hint = f" (closest: {close[0]!r})" if close else ""
                missing.append(f"{header!r} for {field}{hint}")
        if missing:
            raise ConnectorError(f"{table.path.name}: column(s) not found: {', '.join(missing)}; "
                                 f"the file's headers are {', '.join(map(repr, table.headers))}", "configuration")

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
                yield Batch(path.name, rows=None, headers=[], state={"files": dict(seen)}, problem=exc)  # type: ignore[arg-type]
                continue
            rows = table.frame
            rows["_origin"] = path.name + ":" + rows.pop("_line").astype(str)
            problems = [RowProblem(f"{path.name}:{e.line}", e.message, e.raw) for e in table.row_errors]
            seen[digest] = {"name": path.name, "rows": len(rows) + len(problems),
                            "read_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
            yield Batch(path.name, rows=rows, headers=table.headers, state={"files": dict(seen)},
                        row_problems=problems)
