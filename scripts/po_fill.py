"""Fill empty zh-Hans translations from a JSON file of {msgid: msgstr} (a developer's aid).

    .venv/bin/python scripts/po_fill.py translations.json

Entries already translated are left alone (fuzzy guesses are replaced); an msgid the catalogue lacks is
reported, or with --append added at the end (parallel branches append; `make messages` tidies later)."""

import json
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "src/yunying/locale/zh_Hans/LC_MESSAGES/django.po"


def _unquote(lines: list[str]) -> str:
    return "".join(json.loads(line) for line in lines)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def fill(po: Path, translations: dict[str, str], *, append: bool = False) -> list[str]:
    blocks = po.read_text().split("\n\n")
    seen = set()
    for i, block in enumerate(blocks):
        lines = block.split("\n")
        try:
            start = next(n for n, line in enumerate(lines) if line.startswith("msgid "))
            stop = next(n for n, line in enumerate(lines) if line.startswith(("msgstr ", "msgid_plural ")))
        except StopIteration:
            continue
        msgid = _unquote([lines[start][6:], *lines[start + 1 : stop]])
        if msgid not in translations or not lines[stop].startswith("msgstr "):
            continue
        seen.add(msgid)
        fuzzy = any(line.startswith("#, fuzzy") for line in lines)
        current = _unquote([lines[stop][7:], *(line for line in lines[stop + 1 :] if line.startswith('"'))])
        if current and not fuzzy:
            continue
        # makemessages' fuzzy guesses are someone else's sentence: replaced, flag and old msgid dropped
        lines = [line for line in lines[:stop] if not line.startswith(("#, fuzzy", "#| "))]
        lines.append(f"msgstr {_quote(translations[msgid])}")
        blocks[i] = "\n".join(lines)
    missing = sorted(set(translations) - seen)
    if append:
        blocks[-1] = blocks[-1].rstrip("\n")
        blocks += [f"msgid {_quote(m)}\nmsgstr {_quote(translations[m])}" for m in missing]
        missing = []
    po.write_text("\n\n".join(blocks) + "\n")
    return missing


if __name__ == "__main__":
    missing = fill(PO, json.loads(Path(sys.argv[1]).read_text()), append="--append" in sys.argv)
    for msgid in missing:
        print(f"not in the catalogue: {msgid!r}")
