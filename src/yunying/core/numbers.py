"""Reading whole numbers typed by people: only ASCII digits count.

str.isdigit() is true for "①", "²" and full-width digits, and int() then fails on some of them (a
500 the reviews found twice); a helper in one place, so every form reads numbers the same way."""


def ascii_digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits 0-9."""
    return bool(text) and text.isascii() and text.isdigit()
