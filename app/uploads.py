"""What every uploaded file is checked for before its own format reads it (issue 14 item 3).

Keywarden reads its uploads as they are: the employee CSV (R30), the factory's
extension files (R31), firmware files (R25) and trace logs (R27) are plain UTF-8
text, and nothing here ever unpacks an archive, so a zip bomb is only as big as
its compressed bytes. A packed file or UTF-16 text is refused at once with a
message that says what the file is, instead of the first bad byte a reader
would trip over. Error messages quote what the file holds through ``shown``, cut
short, so a hostile file cannot blow up the answer that refuses it.
"""

from __future__ import annotations

import codecs
import reprlib

# The leading bytes of packed formats a user might upload instead of the file itself.
_PACKED = (
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook is one)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) or other Office file"),
)
# UTF-32 first: its little-endian mark starts with UTF-16's.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80
_SHOWN.maxother = 80
_SHOWN.maxlong = 40


def not_plain_text(data: bytes) -> str | None:
    """Why ``data`` is not a plain UTF-8 text file, judged by its first bytes, or None.

    Says which archive or Office format it is (never unpacked), or that it is
    UTF-16/UTF-32 text (its byte order mark says so).
    """
    for magic, what in _PACKED:
        if data.startswith(magic):
            return f"the file is {what}, not a text file; uploads are never unpacked"
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return f"the file is {encoding} text (it starts with a {encoding} byte order mark)"
    return None


def shown(value: object) -> str:
    """``repr(value)`` for an error message, cut to about 80 characters however big the value."""
    return _SHOWN.repr(value)
