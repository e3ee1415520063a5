"""Import codes: a refusal of the whole file (ImportFailed) and the per-row codes of the report.

Row errors also carry the order and member field codes (order.*, member.*): one set of rules."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import DomainError, register_messages


class ImportError_(StrEnum):
    EMPTY = "import.empty"
    ENCODING_UNKNOWN = "import.encoding_unknown"
    FORMAT_UNKNOWN = "import.format_unknown"
    CSV_MALFORMED = "import.csv_malformed"
    HEADER_MISSING = "import.header_missing"
    HEADER_DUPLICATE = "import.header_duplicate"
    TOO_LARGE = "import.too_large"
    TOO_MANY_ROWS = "import.too_many_rows"
    # Per row:
    FORMULA = "import.formula"
    DUPLICATE_IN_FILE = "import.duplicate_in_file"
    ORDER_SPLIT = "import.order_split"
    ORDER_FIELDS_DIFFER = "import.order_fields_differ"
    YUAN_INVALID = "import.yuan_invalid"
    AMOUNT_BOTH = "import.amount_both"
    GENDER_INVALID = "import.gender_invalid"
    DATE_INVALID = "import.date_invalid"
    # Of a job:
    NOT_FOUND = "import.not_found"
    STATE = "import.state"
    NOT_CLEAN = "import.not_clean"


class ImportFailed(DomainError):
    """The file as a whole cannot be imported (nothing was written)."""

    def __init__(self, code: str, **data: Any) -> None:
        super().__init__(code, **data)


register_messages(
    {
        ImportError_.EMPTY: _("The file is empty: it needs a header row and at least one data row."),
        ImportError_.ENCODING_UNKNOWN: _(
            'The file is not text in a known encoding. Save it from Excel as "CSV UTF-8" or as .xlsx.'
        ),
        ImportError_.FORMAT_UNKNOWN: _("The file is neither a CSV file nor an Excel workbook (.xlsx)."),
        ImportError_.CSV_MALFORMED: _("The CSV file is malformed (an unclosed quote or a line too long)."),
        ImportError_.HEADER_MISSING: _(
            "The header row lacks a required column. Download the template to see the column names."
        ),
        ImportError_.HEADER_DUPLICATE: _("Two columns of the header row mean the same field."),
        ImportError_.TOO_LARGE: _("The file is larger than the import allows. Split it into several files."),
        ImportError_.TOO_MANY_ROWS: _(
            "The file has more rows than the import allows. Split it into several files."
        ),
        ImportError_.FORMULA: _("The cell holds a formula. Paste its value instead (formulas are not run)."),
        ImportError_.DUPLICATE_IN_FILE: _("The same record appears earlier in the file."),
        ImportError_.ORDER_SPLIT: _(
            "The order's lines must be consecutive rows; this order id appeared earlier with other orders between."
        ),
        ImportError_.ORDER_FIELDS_DIFFER: _(
            "The lines of one order must agree on the order's member, time, channel, coupons and campaign."
        ),
        ImportError_.YUAN_INVALID: _(
            "An amount in yuan is a number with at most two decimals, such as 12.50."
        ),
        ImportError_.AMOUNT_BOTH: _("Give the amount in fen or in yuan, not both."),
        ImportError_.GENDER_INVALID: _("Gender is 男, 女, 未知 (or male, female, unknown)."),
        ImportError_.DATE_INVALID: _("The date is not a date such as 1990-05-20."),
        ImportError_.NOT_FOUND: _("No import has that id."),
        ImportError_.STATE: _("The import cannot do that in its present state."),
        ImportError_.NOT_CLEAN: _("The file has errors: fix them, or import the clean rows only."),
    }
)
