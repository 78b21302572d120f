"""Writing a source: CSV text forms and encodings, xlsx with frozen bytes, and its file-drop YAML config."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sandbox.generate.dates import _TABLE_FIRST, _date_objects, _format_dates, _format_datetimes
from sandbox.generate.render import _file_keys, _render, _RenderContext
from sandbox.generate.sources import _SourceSpec
from sandbox.generate.text import _cp1258_table, _map_text

_FROZEN_ZIP_TIME = (2023, 9, 30, 0, 0, 0)


def _vn_number(values: np.ndarray) -> np.ndarray:
    return np.array([f"{v:,}".replace(",", ".") for v in values.tolist()], dtype=object)


def _to_text_form(values: np.ndarray, form: str) -> np.ndarray:
    if form == "NFC":
        return values
    if form == "NFD":
        return _map_text(lambda s: unicodedata.normalize("NFD", s), values)
    table = _cp1258_table()
    return _map_text(lambda s: s.translate(table), values)


_TEXT_FIELDS = frozenset({"title", "authors", "unit", "field", "solution_type", "status", "submitted_by"})
_DATE_FIELDS = ("recognized_on", "applied_on", "submitted_at")


def _csv_columns(spec: _SourceSpec, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Header -> string column, as the source writes it."""
    out: dict[str, np.ndarray] = {}
    for field, header in spec.columns:
        v = values[field]
        if field in _DATE_FIELDS:
            v = _format_dates(v, spec.date_format)
        elif field == "updated_at":
            v = _format_datetimes(v, spec.updated_format)
        elif field == "benefit_vnd":
            text = np.full(len(v), "", dtype=object)
            present = v >= 0
            text[present] = _vn_number(v[present]) if spec.benefit_style == "vn" else v[present].astype(str)
            v = text
        elif field in _TEXT_FIELDS:
            v = _to_text_form(v, spec.text_form)
        out[_to_text_form(np.array([header], dtype=object), spec.text_form)[0]] = v
    return out


def _write_csv(spec: _SourceSpec, path: Path, columns: dict[str, np.ndarray]) -> None:
    n = len(next(iter(columns.values())))
    frame: dict[str, np.ndarray] = {}
    if spec.row_number_header:
        frame[spec.row_number_header] = np.arange(1, n + 1)
    frame |= columns
    if spec.extra_empty_header:
        frame[spec.extra_empty_header] = np.full(n, "", dtype=object)
    df = pd.DataFrame({k: pd.Series(v, dtype=object if v.dtype == object else v.dtype) for k, v in frame.items()})
    df.to_csv(path, index=False, sep=spec.delimiter, encoding=spec.encoding, lineterminator=spec.line_terminator)


def _write_xlsx(spec: _SourceSpec, path: Path, values: dict[str, np.ndarray]) -> None:
    """Write an xlsx with real date/datetime cells and numeric benefit cells; bytes depend on content only."""
    import openpyxl

    cols: list[list[object]] = []
    for field, _ in spec.columns:
        v = values[field]
        if field in _DATE_FIELDS:
            cols.append(_date_objects()[v - _TABLE_FIRST].tolist())
        elif field == "updated_at":
            cols.append([datetime(1970, 1, 1) + timedelta(seconds=s) for s in v.tolist()])
        elif field == "benefit_vnd":
            cols.append([x if x >= 0 else None for x in v.tolist()])
        else:
            cols.append(list(v))
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sáng kiến")
    ws.append([header for _, header in spec.columns])
    for row in zip(*cols):
        ws.append(row)
    wb.properties.creator = "sangkien-sync sandbox"
    buf = io.BytesIO()
    wb.save(buf)
    _freeze_zip(buf.getvalue(), path)


def _freeze_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip (xlsx) with fixed member timestamps and document dates, so equal content gives equal bytes."""
    stamp = b"2023-09-30T00:00:00Z"
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                 rb"\g<1>" + stamp + rb"\g<3>", content)
            member = zipfile.ZipInfo(info.filename, date_time=_FROZEN_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, content)


def _write_config(spec: _SourceSpec, sources_dir: Path) -> Path:
    config = {
        "kind": "files",
        "path": spec.name,
        "pattern": f"*.{spec.extension}",
        "encoding": spec.encoding,
        "delimiter": spec.delimiter,
        "date_format": spec.date_format,
        "authors_separator": spec.authors_separator,
        "columns": dict(spec.columns),
    }
    header = (f"# Simulated source '{spec.name}': {spec.description}.\n"
              "# Written by sandbox.generate; path is relative to this file's folder.\n")
    if spec.file_format == "xlsx":
        header += "# xlsx: encoding and delimiter do not apply; date_format applies to dates stored as text.\n"
    elif spec.text_form == "cp1258":
        header += "# Text keeps tone marks as combining characters (Windows-1258): normalize to NFC before matching.\n"
    elif spec.text_form == "NFD":
        header += "# Text is Unicode NFD (decomposed): normalize to NFC before matching.\n"
    path = sources_dir / f"{spec.name}.yaml"
    path.write_text(header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _write_source(spec: _SourceSpec, index: int, rows: np.ndarray, ctx: _RenderContext,
                  sources_dir: Path) -> tuple[tuple[Path, ...], np.ndarray]:
    """Write the source's files; return them and its record ids (in ``rows`` order)."""
    folder = sources_dir / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"*.{spec.extension}"):
        stale.unlink()
    values = _render(spec, index, rows, ctx)
    keys = _file_keys(spec, rows, ctx)
    names = sorted(set(keys.tolist())) or [spec.stem]
    written = []
    if spec.file_format == "csv":
        columns = _csv_columns(spec, values)
    for name in names:
        part = keys == name
        path = folder / f"{name}.{spec.extension}"
        if spec.file_format == "xlsx":
            _write_xlsx(spec, path, {k: v[part] for k, v in values.items()})
        else:
            _write_csv(spec, path, {k: v[part] for k, v in columns.items()})
        written.append(path)
    return tuple(written), values["source_record_id"]
