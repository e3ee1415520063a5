"""Reading an uploaded table, a row at a time: CSV (UTF-8 with or without BOM, or GB18030 as Excel in
China saves it) and XLSX (openpyxl read-only; formulas are never evaluated). Nothing is loaded whole:
a million-row file streams in bounded memory.

Encoding rule: a UTF-8 BOM means UTF-8; else the first block must decode as UTF-8 (then UTF-8) or as
GB18030 (then GB18030, a superset of GBK and GB2312); a file with NUL bytes, a UTF-16 BOM, or bytes
neither encoding accepts is refused with import.encoding_unknown (a decode error later in the file
too, with its row). The delimiter is a comma, or a tab when the header line has more tabs."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from yunying.commerce.imports.errors import ImportError_, ImportFailed

SNIFF_BYTES = 1 << 20
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    """An open file: its header cells, then its data rows as (row number in the file, cells)."""

    format: str  # csv | xlsx
    encoding: str  # utf-8 | utf-8-sig | gb18030 | "" (xlsx)
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    sheet: str = ""
    other_sheets: list[str] = field(default_factory=list)
    _close: Any = None

    def close(self) -> None:
        if self._close is not None:
            self._close()


def table_open(path: Path, *, filename: str = "") -> Table:
    """The table in the file at `path` (`filename`, as uploaded, only says which format was meant).

    Raises: import.empty, import.encoding_unknown, import.format_unknown, import.header_missing."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise ImportFailed(ImportError_.EMPTY)
    if head.startswith(XLSX_MAGIC):
        return _xlsx_open(path)
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise ImportFailed(ImportError_.FORMAT_UNKNOWN)  # an old .xls or a renamed file
    return _csv_open(path, head)


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise ImportFailed(ImportError_.ENCODING_UNKNOWN)
    for encoding in ("utf-8", "gb18030"):
        try:
            # final=False: the block may end inside a multi-byte character.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFailed(ImportError_.ENCODING_UNKNOWN)


def _csv_open(path: Path, head: bytes) -> Table:
    encoding = _encoding(head)
    handle = open(path, encoding=encoding, newline="", errors="strict")  # noqa: SIM115 - closed by Table
    try:
        first_line = handle.readline()
        handle.seek(0)
    except UnicodeDecodeError as exc:
        handle.close()
        raise ImportFailed(ImportError_.ENCODING_UNKNOWN) from exc
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        raise ImportFailed(ImportError_.ENCODING_UNKNOWN) from exc
    if not header or not any(cell.strip() for cell in header):
        handle.close()
        raise ImportFailed(ImportError_.EMPTY)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        number = 1
        try:
            for cells in reader:
                number += 1
                if cells and any(cell.strip() for cell in cells):
                    yield number, cells
        except UnicodeDecodeError as exc:
            raise ImportFailed(ImportError_.ENCODING_UNKNOWN, row=number + 1) from exc
        except csv.Error as exc:
            raise ImportFailed(ImportError_.CSV_MALFORMED, row=number + 1) from exc

    return Table("csv", encoding.replace("-sig", "") + ("+bom" if encoding.endswith("sig") else ""),
                 header, rows(), _close=handle.close)  # fmt: skip


def _xlsx_cell(value: Any) -> Any:
    """Excel's values as the validators take them: text stays text, whole numbers ints, dates
    datetimes; a formula stays its text ("=..."), which the row check refuses."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return value


def _xlsx_open(path: Path) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    handle = open(path, "rb")  # noqa: SIM115 - closed with the book; a handle: the path has no .xlsx
    try:
        # read_only streams the sheet; data_only=False keeps formulas as their text, never a cached
        # result the file's author could have forged, and never evaluated.
        book = openpyxl.load_workbook(handle, read_only=True, data_only=False)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        handle.close()
        raise ImportFailed(ImportError_.FORMAT_UNKNOWN) from exc
    except Exception as exc:  # zipfile.BadZipFile and other damage: a file we cannot read
        handle.close()
        raise ImportFailed(ImportError_.FORMAT_UNKNOWN) from exc

    def close() -> None:
        book.close()
        handle.close()

    sheets = [sheet for sheet in book.worksheets if sheet.sheet_state == "visible"] or book.worksheets
    sheet = sheets[0]
    values = sheet.iter_rows(values_only=True)
    header_row = next(values, None)
    if header_row is None or not any(cell not in (None, "") for cell in header_row):
        close()
        raise ImportFailed(ImportError_.EMPTY)
    header = ["" if cell is None else str(cell) for cell in header_row]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        number = 1
        for cells in values:
            number += 1
            if any(cell not in (None, "") for cell in cells):
                yield number, [_xlsx_cell(cell) for cell in cells]

    others = [each.title for each in book.worksheets if each is not sheet]
    return Table("xlsx", "", header, rows(), sheet=sheet.title, other_sheets=others, _close=close)
