"""HTML markup removed from text, then the display form (NFC)."""

from __future__ import annotations

import html
import re
from typing import overload

import numpy as np
import pandas as pd

from sangkien.text.display import _nfc_many, _nfc_text
from sangkien.text.series import _as_text, _flags, _is_missing, _str_series

_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_BLOCK_TAG_RE = re.compile(
    r"</?(?:br|p|div|li|ul|ol|tr|td|th|table|thead|tbody|h[1-6]|hr|blockquote"
    r"|section|article|header|footer|pre|dd|dt|dl)\b[^<>]*>",
    re.IGNORECASE,
)
_TAG_RE = re.compile(r"<[/!?A-Za-z][^<>]*>")  # <b>, </b>, <!DOCTYPE ...>, <?xml ...>


def _strip_markup_text(text: str) -> str:
    return _nfc_text(_unmarkup(text))


def _unmarkup(text: str) -> str:
    """``text`` with tags removed and entities decoded (not yet in NFC form)."""
    if "<" in text:
        if "<s" in text or "<S" in text:  # cheap pre-checks skip rare patterns
            text = _SCRIPT_RE.sub(" ", text)
        if "<!" in text:
            text = _COMMENT_RE.sub(" ", text)
        text = _BLOCK_TAG_RE.sub(" ", text)
        text = _TAG_RE.sub("", text)
    if "&" in text:
        text = text.replace("&nbsp;", " ")  # the common entity, without a regex
        if "&" in text:
            text = html.unescape(text)
    return text


def _strip_markup_many(texts: list[str]) -> list[str]:
    """:func:`strip_markup` of each text: markup removed where a ``<`` or ``&`` says there may be some."""
    marked = _flags(str.__contains__, texts, "<") | _flags(str.__contains__, texts, "&")
    if marked.any():
        texts = texts.copy()
        for i in np.flatnonzero(marked).tolist():
            texts[i] = _unmarkup(texts[i])
    return _nfc_many(texts)


@overload
def strip_markup(text: str) -> str: ...
@overload
def strip_markup(text: None) -> None: ...
def strip_markup(text: str | None) -> str | None:
    """Remove HTML markup and control characters, then :func:`nfc`.

    Promises: ``<script>``/``<style>`` elements and comments removed with
    their content; block-level tags (``<br>``, ``<p>``, ``<div>``, ``<li>``,
    table cells, ...) become a space so words on either side stay apart;
    other tags (``<b>``, ``<span ...>``) are removed without a space; HTML
    entities (``&amp;``, ``&nbsp;``, ``&#7843;``) are decoded *after* tag
    removal, so an escaped ``&lt;b&gt;`` survives as the text ``<b>``. A
    ``<`` that does not start a tag (``"a < b"``) is kept. Control characters
    are removed except that tab/newline/CR/VT/FF become spaces (so lines do not
    run together), then the :func:`nfc` guarantees apply. Missing -> None.
    """
    if _is_missing(text):
        return None
    return _strip_markup_text(_as_text(text))


def strip_markup_series(s: pd.Series) -> pd.Series:
    """Vectorized :func:`strip_markup`: ``str`` dtype, missing stays missing."""
    return _str_series(s, _strip_markup_many)
