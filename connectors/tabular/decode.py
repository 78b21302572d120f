"""Decoding a text export: refuse binaries, detect the encoding, NFC-normalize to UTF-8.

Auto-detection tries a BOM, then strict UTF-8, then Windows-1258 (cp1258); a file that is
UTF-8 in its first lines and not later is refused rather than garbled.
"""

from __future__ import annotations

import codecs
import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from connectors.tabular.table import ZIP, FileFormatError, is_auto

_CHUNK = 1 << 22            # bytes decoded at a time


_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (ZIP, "a ZIP archive (an XLSX workbook?)",
     "if it is an Excel workbook, rename it to .xlsx, or save it from Excel as 'CSV UTF-8'"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE) file",
     "open it in Excel and save it as .xlsx or 'CSV UTF-8'"),
    (b"%PDF", "a PDF document", "export the table itself as CSV or XLSX"),
    (b"\x89PNG", "a PNG image", "export the table itself as CSV or XLSX"),
    (b"\xff\xd8\xff", "a JPEG image", "export the table itself as CSV or XLSX"),
    (b"GIF8", "a GIF image", "export the table itself as CSV or XLSX"),
    (b"\x1f\x8b", "a gzip archive", "unpack it and drop the CSV inside"),
    (b"Rar!", "a RAR archive", "unpack it and drop the CSV inside"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "unpack it and drop the CSV inside"),
)


_MARKUP = (b"<!doctype html", b"<html", b"<table", b"<?xml")


class _BadBytes(Exception):
    """Text could not be decoded: ``offset`` is absolute in the file."""

    def __init__(self, offset: int, byte: int, reason: str) -> None:
        super().__init__(f"byte 0x{byte:02X} at offset {offset}: {reason}")
        self.offset, self.byte, self.reason = offset, byte, reason


def _check_not_binary(name: str, raw: bytes, utf16: bool) -> None:
    """Raise FileFormatError when the bytes are clearly not a text table."""
    for signature, what, fix in _SIGNATURES:
        if raw.startswith(signature):
            raise FileFormatError(f"{name} looks like a binary file, not CSV: it starts like {what}; {fix}")
    if not utf16:
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise FileFormatError(
                f"{name} looks like a binary file, not CSV: it contains NUL bytes (first at byte {nul}); "
                "export the table as CSV or XLSX"
            )
    start = raw[:512].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if start.startswith(_MARKUP):
        raise FileFormatError(
            f"{name} looks like an HTML/XML page, not CSV; open it in Excel and save it as .xlsx or 'CSV UTF-8'"
        )


def decoded_file(path: Path, encoding: str) -> tuple[bytes, str]:
    """Read the file and return (NFC UTF-8 bytes, possibly with a BOM; the encoding used)."""
    raw = path.read_bytes()
    utf16 = _utf16_codec(raw)
    _check_not_binary(path.name, raw, utf16 is not None)
    if is_auto(encoding):
        return _decode_auto(path.name, raw, utf16)
    return _decode_explicit(path.name, raw, encoding, utf16)


def _utf16_codec(raw: bytes) -> str | None:
    """Return 'utf-16' for a UTF-16 BOM, 'utf-16-le'/'-be' for BOM-less UTF-16 text, else None."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = raw[: 4096 - 4096 % 2] if len(raw) >= 4 else b""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even == 0:
        return "utf-16-le"
    if even > 0.3 * half and odd == 0:
        return "utf-16-be"
    return None


def _decode_auto(name: str, raw: bytes, utf16: str | None) -> tuple[bytes, str]:
    """Decode by BOM, else strict UTF-8, else cp1258; raise FileFormatError if nothing fits."""
    codec = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else utf16 or "utf-8"
    try:
        return _nfc_utf8(raw, codec), codec
    except _BadBytes as bad:
        if codec != "utf-8":
            raise FileFormatError(
                f"{name} is not valid {codec} text: {_where(raw, bad, codec)}; re-export it as 'CSV UTF-8'"
            ) from None
        _check_single_encoding(name, raw, bad)
    try:
        return _nfc_utf8(raw, "cp1258"), "cp1258"
    except _BadBytes as bad:
        raise FileFormatError(
            f"{name} is neither UTF-8 nor Windows-1258 (cp1258) text: {_where(raw, bad, 'cp1258')}; "
            "re-export it as 'CSV UTF-8' or set encoding: to the file's encoding"
        ) from None


def _check_single_encoding(name: str, raw: bytes, bad: _BadBytes) -> None:
    """Refuse a file whose first lines are UTF-8 with accents and a later line is not.

    Reading such a file as cp1258 would garble the UTF-8 part silently, so it is named.
    """
    line_start = raw.rfind(b"\n", 0, bad.offset) + 1
    before = raw[:line_start]
    if before.isascii():
        return
    try:
        before.decode("utf-8")
    except UnicodeDecodeError:
        return
    line = before.count(b"\n") + 1
    raise FileFormatError(
        f"{name} mixes encodings: lines 1-{line - 1} are UTF-8 but line {line} is not "
        f"({_where(raw, bad, 'utf-8')}); re-export the whole file in one encoding ('CSV UTF-8')"
    )


def _decode_explicit(name: str, raw: bytes, encoding: str, utf16: str | None) -> tuple[bytes, str]:
    """Decode with the configured encoding; a decode error names it and suggests a fix."""
    try:
        codec = codecs.lookup(encoding.strip()).name
    except LookupError:
        raise FileFormatError(
            f"{name}: unknown encoding {encoding!r}; set encoding: auto, utf-8, utf-16 or cp1258"
        ) from None
    if codec == "utf-16" and utf16 in ("utf-16-le", "utf-16-be"):
        codec = utf16  # BOM-less UTF-16: Python's incremental 'utf-16' decoder insists on a BOM
    try:
        return _nfc_utf8(raw, codec), codec
    except _BadBytes as bad:
        likely = _likely_codec(raw, utf16)
        hint = "set encoding: auto" + (f" (the file looks like {likely})" if likely and likely != codec else "")
        raise FileFormatError(f"{name} is not valid {codec} text: {_where(raw, bad, codec)}; {hint}") from None


def _likely_codec(raw: bytes, utf16: str | None) -> str | None:
    """Name the encoding auto-detection would use, or None if it would fail."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if utf16:
        return utf16
    for codec in ("utf-8", "cp1258"):
        try:
            raw.decode(codec)
            return codec
        except UnicodeDecodeError:
            continue
    return None


def _where(raw: bytes, bad: _BadBytes, codec: str) -> str:
    """Describe a decode failure for a person: byte value, offset and line."""
    line = raw[: bad.offset].decode(codec, errors="replace").count("\n") + 1
    return f"byte 0x{bad.byte:02X} at offset {bad.offset} (line {line}) cannot be decoded"


def _nfc_utf8(raw: bytes, codec: str) -> bytes:
    """Decode ``raw`` strictly with ``codec`` and return it NFC-normalized as UTF-8.

    Returns ``raw`` itself (no copy) when it already is NFC UTF-8.  A BOM survives
    as a UTF-8 BOM; readers downstream decode with 'utf-8-sig'.  Raises _BadBytes.
    """
    utf8 = codecs.lookup(codec).name in ("utf-8", "utf-8-sig")
    if utf8 and (raw.isascii() or _is_nfc_utf8(raw, codec)):
        return raw
    out = io.BytesIO()
    for piece in _text_pieces(raw, codec):
        out.write(unicodedata.normalize("NFC", piece).encode("utf-8"))  # returns NFC input as is
    return out.getvalue()


def _is_nfc_utf8(raw: bytes, codec: str) -> bool:
    """Whether ``raw`` decodes strictly as UTF-8 and is NFC throughout (raises _BadBytes)."""
    return all(unicodedata.is_normalized("NFC", piece) for piece in _text_pieces(raw, codec))


def _text_pieces(raw: bytes, codec: str) -> Iterator[str]:
    """Decode ``raw`` incrementally; yield text pieces that each end at a line break.

    Cutting at line breaks keeps every base letter with its combining marks, so
    each piece can be NFC-normalized on its own.  Raises _BadBytes on bad input.
    """
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    view, carry = memoryview(raw), ""
    for start in range(0, len(raw), _CHUNK):
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(view[start : start + _CHUNK], final=start + _CHUNK >= len(raw))
        except UnicodeDecodeError as exc:
            raise _BadBytes(start - pending + exc.start, exc.object[exc.start], exc.reason) from None
        except UnicodeError as exc:  # e.g. "UTF-16 stream does not start with BOM"
            raise _BadBytes(start, raw[start], str(exc)) from None
        text = carry + text
        cut = max(text.rfind("\n"), text.rfind("\r")) + 1
        carry = text[cut:]
        if cut:
            yield text[:cut]
    if carry:
        yield carry
