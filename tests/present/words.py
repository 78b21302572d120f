"""Finding what a Vietnamese output must not carry: identifiers (snake_case) and English words.

Data are allowed: source names (connector names such as baocao_tinh are chosen by provincial IT),
unit codes and record ids; the caller passes them in ``data``."""
from __future__ import annotations

import re
from collections.abc import Iterable

IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# words the outputs carried before they had one catalogue: kinds, measures, causes, check names
ENGLISH = re.compile(r"\b(sources?|initiatives?|portal's|not in|held by|short of|target|phase|quarantine[d]?|"
                     r"valid|pending|rejected|measure|expected|actual|detail|children's|discrepanc\w*|"
                     r"required|unit_known|cause|submissions|registrants|completion)\b", re.IGNORECASE)


def untranslated(texts: Iterable[str], data: Iterable[str] = ()) -> list[str]:
    """Every identifier or English word in ``texts``, once each, with the data names taken out first."""
    names = sorted({d for d in data if d}, key=len, reverse=True)
    found: dict[str, None] = {}
    for text in texts:
        for name in names:
            text = text.replace(name, " ")
        for match in (*IDENTIFIER.finditer(text), *ENGLISH.finditer(text)):
            found.setdefault(f"{match.group(0)!r} in {text[:80]!r}", None)
    return list(found)
