"""Reading a reference CSV file whole, naming every offending line."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sangkien.errors import UserError


def _read_csv(path: Path, required: tuple[str, ...],
              optional: tuple[str, ...] = ()) -> list[tuple[int, dict[str, str]]]:
    """Rows of a small UTF-8 CSV as (line number, {column: stripped value})."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a CSV file") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise UserError(f"{path} is empty; expected the header {','.join(required + optional)}")
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}; the header must be "
                        f"{','.join(required + optional)} (found {','.join(header)})")
    rows = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            rows.append((line, {"__error__": f"has {len(values)} fields, the header has {len(header)}"}))
            continue
        values = values + [""] * (len(header) - len(values))
        rows.append((line, {h: v.strip() for h, v in zip(header, values)}))
    return rows


def _date(value: str, column: str, problems: list[str], where: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{where}: {column} {value!r} is not an ISO date (YYYY-MM-DD)")
        return None


