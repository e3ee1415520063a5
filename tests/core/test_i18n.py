"""Every error message and notification reads in Chinese by default and in English on request."""

import os

import pytest
from django.utils import translation

from yunying.campaigns.messages import TEMPLATES, text_render
from yunying.core.errors import _MESSAGES
from yunying.notify.templates import template_keys


@pytest.mark.parametrize("code", sorted(_MESSAGES), ids=str)
def test_every_error_code_has_a_chinese_message(code):
    with translation.override("en"):
        english = str(_MESSAGES[code])
    with translation.override("zh-hans"):
        chinese = str(_MESSAGES[code])
    assert chinese != english, f"{code} has no zh-Hans translation: run `make messages` and translate"


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_notification_renders_in_both_languages(template):
    context = {"campaign": "双11 新品体验", "event_start": "2026-11-11 20:00", "reason": "名额调整"}
    with translation.override("zh-hans"):
        subject_zh, body_zh = text_render(template, context)
    with translation.override("en"):
        subject_en, body_en = text_render(template, context)
    assert "双11 新品体验" in body_zh and "双11 新品体验" in body_en
    assert subject_zh != subject_en and body_zh != body_en
    assert "{" not in body_zh  # every placeholder was filled


def test_every_campaign_message_is_registered_with_the_outbox():
    assert set(TEMPLATES) <= set(template_keys())


def test_api_errors_follow_accept_language(api):
    zh = api.get("/api/v1/campaigns/999999", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    en = api.get("/api/v1/campaigns/999999", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["code"] == en.json()["code"] == "campaign.not_found"
    assert zh.json()["title"] == "活动不存在。"
    assert en.json()["title"] == "Campaign not found."


def test_the_chinese_catalogue_translates_every_string_the_code_marks(tmp_path):
    """makemessages over a copy of the code: every msgid it finds has a zh-Hans translation that is
    not a fuzzy guess, so no page shows English in Chinese (English needs no catalogue: msgids are it)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import yunying

    source = Path(yunying.__file__).parent
    copy = tmp_path / "yunying"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "vendor"))
    # Bare settings: makemessages then writes into the copy's locale/, never into the real catalogue.
    (tmp_path / "bare_settings.py").write_text("SECRET_KEY = 'x'\nUSE_I18N = True\nINSTALLED_APPS = []\n")
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v0"],
        cwd=copy, check=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "bare_settings", "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    catalogue = _entries((copy / "locale/zh_Hans/LC_MESSAGES/django.po").read_text())
    assert len(catalogue) > 300, "makemessages found no strings: the check would prove nothing"
    untranslated = sorted(
        msgid for msgid, (msgstr, fuzzy) in catalogue.items() if msgid and (not msgstr or fuzzy)
    )
    assert untranslated == []


def _entries(po: str) -> dict[str, tuple[str, bool]]:
    """msgid → (msgstr, fuzzy) of a .po file (plural forms: the first msgstr)."""
    import json

    entries = {}
    for block in po.split("\n\n"):
        lines = block.strip().split("\n")
        fuzzy = any(line.startswith("#, fuzzy") for line in lines)
        msgid, msgstr, current = [], [], None
        for line in lines:
            if line.startswith("msgid "):
                current = msgid
                line = line[6:]
            elif line.startswith(("msgstr ", "msgstr[0] ")):
                current = msgstr
                line = line.split(" ", 1)[1]
            elif line.startswith(("msgid_plural", "msgstr[")):
                current = None
                continue
            elif not line.startswith('"'):
                continue
            if current is not None:
                current.append(json.loads(line))
        if msgid or msgstr:
            entries["".join(msgid)] = ("".join(msgstr), fuzzy)
    return entries
