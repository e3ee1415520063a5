"""Every error message and notification reads in Chinese by default and in English on request."""

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
