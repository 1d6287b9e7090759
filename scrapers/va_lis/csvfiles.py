"""Reading LIS CSV data files into rows: decoding, header checks, ragged rows. Pure.

What the real files look like (shared fixtures, 2020 and 2025 sessions): every field
double-quoted, CRLF line endings, ASCII except ``Summaries.csv`` (UTF-8: ``§ – ’``), quoted
fields spanning several lines (the summaries' HTML), fields padded with trailing spaces, and
in ``Sponsors.csv`` an unquoted label after a quoted field (``"1001" - Chief Patron``), which
the csv module reads as one field ``1001 - Chief Patron``.

What is tolerated beyond that: a UTF-8 byte order mark, a stray non-UTF-8 byte (the file is
then read as Windows-1252, the usual origin of such bytes), blank lines, and rows with
missing trailing columns (read as empty). What is refused, as a :class:`ParseError` naming
the file: a file without a header row, a header without an expected column, and what the
csv module cannot read (such as a field over its 128 KiB limit), with the line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tracker.errors import ParseError

_BOM = b"\xef\xbb\xbf"


def decode(body: bytes) -> str:
    """UTF-8 (a BOM removed); Windows-1252 when the bytes are not UTF-8."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        # cp1252 leaves five byte values undefined; "replace" keeps one such byte from
        # failing a whole session file.
        return body.removeprefix(_BOM).decode("cp1252", errors="replace")


def is_blank(body: bytes) -> bool:
    """True for a file with nothing but white space in it (not even a header)."""
    return not body.strip()


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its line number in the file and the wanted columns' raw values."""

    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]


@dataclass(frozen=True, slots=True)
class Table:
    """The rows of one file, with the file's name for messages about them."""

    document: str
    rows: list[Row]


def read_table(body: bytes, *, document: str, columns: Sequence[str]) -> Table:
    """The rows of a CSV file, each holding ``columns`` (matched to the header ignoring case).

    Values are returned as written (no stripping: a leading space means something in
    HISTORY.CSV). Raises :class:`ParseError` naming ``document`` for a missing header or
    column and for rows the csv module refuses.
    """
    return Table(document, list(_rows(decode(body), document=document, columns=columns)))


def _rows(text: str, *, document: str, columns: Sequence[str]) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(name.strip() for name in header):
            raise ParseError("no header row", document=document)
        positions = _positions(header, columns=columns, document=document)
        for record in reader:
            if not any(field.strip() for field in record):
                continue
            width = len(record)
            yield Row(
                line=reader.line_num,
                values={
                    column: record[index] if index < width else ""
                    for column, index in positions.items()
                },
            )
    except csv.Error as exc:
        raise ParseError(f"line {reader.line_num}: {exc}", document=document) from None


def _positions(header: list[str], *, columns: Sequence[str], document: str) -> dict[str, int]:
    found = {name.strip().lower(): index for index, name in enumerate(header)}
    positions = {}
    for column in columns:
        index = found.get(column.lower())
        if index is None:
            listed = ", ".join(" ".join(name.split()) for name in header)  # one line
            raise ParseError(f"no {column!r} column (header: {listed})", document=document)
        positions[column] = index
    return positions
