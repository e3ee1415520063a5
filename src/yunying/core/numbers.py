"""Reading whole numbers typed by people: only ASCII digits count.

str.isdigit() is true for "①", "²" and full-width digits, and int() then fails on some of them (a
500 the reviews found twice); a helper in one place, so every form reads numbers the same way."""


def ascii_digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits 0-9."""
    return bool(text) and text.isascii() and text.isdigit()


def digits_int(text: str, *, max_digits: int = 18) -> int | None:
    """`text` as a whole number when it is 1 to `max_digits` ASCII digits, else None. The bound keeps
    int() from ValueError on 4,300+ digits (CPython's limit), a 500 where a form error was meant."""
    return int(text) if ascii_digits(text) and len(text) <= max_digits else None
