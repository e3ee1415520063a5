"""Free text people type: whether it says anything at all.

str.strip() leaves a zero-width space (U+200B), a word joiner or a byte-order mark: text of only
those reads as empty to everyone, and a required reason given so was taken (new-user review)."""

from __future__ import annotations

import unicodedata

# Format (Cf: zero-width space, joiners, BOM, direction marks), control (Cc) and separator (Z*)
# characters show nothing; the Hangul fillers and the braille blank are letters that show nothing.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def text_blank(text: str | None) -> bool:
    """Whether `text` has no visible character (None, "", whitespace, zero-width characters only)."""
    return not any(
        not ch.isspace()
        and unicodedata.category(ch) not in ("Cf", "Cc", "Zs", "Zl", "Zp")
        and ch not in _INVISIBLE_LETTERS
        for ch in text or ""
    )
