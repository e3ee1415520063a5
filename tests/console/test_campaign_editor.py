"""The step-by-step campaign editor (console.views.campaigns): every step through the campaign
services, their refusals shown on the fields, validation as the operator types, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from yunying.campaigns.models import Campaign
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role

NEW = "/console/campaigns/new/"


def local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def basics(**changes) -> dict:
    now = timezone.now()
    data = {
        "title": "春季新品体验会",
        "theme": "春天",
        "type": "offline_event",
        "description": "门店体验",
        "rules_text": "每人限报一次。",
        "reward_description": "小样一份",
        "signup_start_at": local(now - timedelta(hours=1)),
        "signup_end_at": local(now + timedelta(days=2)),
        "event_start_at": local(now + timedelta(days=3)),
        "event_end_at": local(now + timedelta(days=3, hours=2)),
        "capacity": "30",
        "review_mode": "auto",
        "admission_mode": "first_come",
        "channels": ["h5", "app"],
    }
    return data | changes


def edit(campaign_id: int, step: str) -> str:
    return f"/console/campaigns/{campaign_id}/edit/{step}/"


def questions(*items: dict, **extra) -> dict:
    data = {
        "q-TOTAL_FORMS": str(len(items)),
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "50",
    }
    for n, item in enumerate(items):
        for key, value in item.items():
            if value is True:
                data[f"q-{n}-{key}"] = "on"
            elif value not in (False, None):
                data[f"q-{n}-{key}"] = value
    return data | extra


SIZE = {
    "key": "size",
    "label": "尺码",
    "type": "single_choice",
    "required": True,
    "options": "s=小\nm=中\nl=大",
}
CITY = {"key": "city", "label": "所在城市", "type": "text", "help_text": "例如 上海"}


def test_an_operator_builds_a_campaign_step_by_step_and_publishes_it(console_as):
    # given
    op = console_as(Role.STRATEGY)
    assert op.get(NEW).status_code == 200
    # when: step 1 makes the draft
    response = op.post(NEW, basics(next="1"))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == edit(campaign.pk, "form")
    assert campaign.status == "draft" and campaign.capacity == 30 and campaign.channels == ["h5", "app"]
    # step 2: two questions
    assert op.get(edit(campaign.pk, "form")).status_code == 200
    response = op.post(edit(campaign.pk, "form"), questions(SIZE, CITY, next="1"))
    assert response.status_code == 302 and response["Location"] == edit(campaign.pk, "eligibility")
    # step 3: an age rule
    response = op.post(edit(campaign.pk, "eligibility"), {"min_age": "18", "max_age": "60", "next": "1"})
    assert response.status_code == 302 and response["Location"] == edit(campaign.pk, "notifications")
    # step 4
    response = op.post(
        edit(campaign.pk, "notifications"),
        {"notify_channels": ["sms", "email"], "reminder_hours_before": "12", "next": "1"},
    )
    assert response.status_code == 302 and response["Location"] == edit(campaign.pk, "review")
    # step 5: review with the phone preview, then publish
    review = op.get(edit(campaign.pk, "review"))
    page = review.content.decode()
    assert 'class="phone-frame' in page and f"/console/campaigns/{campaign.pk}/preview/" in page
    assert "data-confirm" in page and f"/console/campaigns/{campaign.pk}/do/publish/" in page
    response = op.post(f"/console/campaigns/{campaign.pk}/do/publish/", {"next": edit(campaign.pk, "review")})
    # then
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "published"
    assert [q["key"] for q in campaign.form] == ["size", "city"]
    assert campaign.form[0]["options"] == [
        {"value": "s", "label": "小"}, {"value": "m", "label": "中"}, {"value": "l", "label": "大"}
    ]  # fmt: skip
    assert campaign.form[0]["required"] is True and campaign.form[1]["required"] is False
    assert campaign.eligibility == {"min_age": 18, "max_age": 60}
    assert campaign.notify_channels == ["sms", "email"] and campaign.reminder_hours_before == 12
    actions = set(AuditEntry.objects.filter(object_id=str(campaign.pk)).values_list("action", flat=True))
    assert {"campaign.create", "campaign.update", "campaign.publish"} <= actions


def test_the_form_builder_offers_every_question_type_of_the_service(console_as):
    from typing import get_args

    from yunying.campaigns.questions import QuestionType

    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    page = op.post(edit(campaign.pk, "form"), questions(op="add")).content.decode()
    for kind in get_args(QuestionType):
        assert f'value="{kind}"' in page


def test_questions_are_added_moved_and_removed_before_saving(console_as):
    # given
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    # when: move the second question up
    page = op.post(edit(campaign.pk, "form"), questions(SIZE, CITY, op="up-1")).content.decode()
    # then
    assert page.index('value="city"') < page.index('value="size"')
    page = op.post(edit(campaign.pk, "form"), questions(SIZE, CITY, op="down-0")).content.decode()
    assert page.index('value="city"') < page.index('value="size"')
    page = op.post(edit(campaign.pk, "form"), questions(SIZE, CITY, op="remove-0")).content.decode()
    assert 'value="size"' not in page and 'value="city"' in page
    page = op.post(edit(campaign.pk, "form"), questions(SIZE, op="add")).content.decode()
    assert 'name="q-1-key"' in page
    campaign.refresh_from_db()
    assert campaign.form == []  # nothing saved until Save
    # and a save keeps the order shown
    op.post(edit(campaign.pk, "form"), questions(CITY, SIZE, op="save"))
    campaign.refresh_from_db()
    assert [q["key"] for q in campaign.form] == ["city", "size"]


def test_an_htmx_move_answers_with_the_builder_fragment_only(console_as):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    response = op.post(edit(campaign.pk, "form"), questions(SIZE, CITY, op="up-1"), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="form-builder">') and "<html" not in page


def test_bad_questions_are_refused_by_the_service_with_errors_on_the_question(console_as):
    # given
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    bad = {"key": "Bad Key", "label": "问题", "type": "single_choice"}  # bad key, choice without options
    # when
    response = op.post(edit(campaign.pk, "form"), questions(bad, op="save"))
    # then
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_q-0-key_error"' in page
    assert "格式不正确" in page  # the service's message, in the operator's language
    campaign.refresh_from_db()
    assert campaign.form == []
    # a choice question without options: the question as a whole
    page = op.post(edit(campaign.pk, "form"), questions(bad | {"key": "size"}, op="save")).content.decode()
    assert "选择题需要选项" in page


def test_a_duplicate_question_key_is_shown_on_the_second_question(console_as):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    response = op.post(edit(campaign.pk, "form"), questions(CITY, CITY | {"label": "又一个"}, op="save"))
    assert response.status_code == 422
    assert 'id="id_q-1-key_error"' in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"title": "  "}, "title", id="blank-title"),
        pytest.param(
            {"signup_end_at": "2026-01-01T00:00", "signup_start_at": "2026-02-01T00:00"},
            "signup_end_at",
            id="end-before-start",
        ),
        pytest.param({"capacity": "-1"}, "capacity", id="capacity-negative"),
        pytest.param({"capacity": str(10**20)}, "capacity", id="capacity-huge"),
        pytest.param({"capacity": "many"}, "capacity", id="capacity-not-a-number"),
        pytest.param({"signup_start_at": "1800-01-01T00:00"}, "signup_start_at", id="year-1800"),
        pytest.param({"event_end_at": "yesterday"}, "event_end_at", id="not-a-date"),
        pytest.param({"title": "长" * 5000}, "title", id="long-title"),
        pytest.param({"rules_text": "长" * 20_001}, "rules_text", id="huge-rules"),
        pytest.param({"type": "rave"}, "type", id="unknown-type"),
        pytest.param({"channels": ["carrier-pigeon"]}, "channels", id="unknown-channel"),
    ],
)
def test_bad_basics_are_shown_on_their_field_and_never_500(console_as, changes, field):
    op = console_as(Role.EXECUTION)
    response = op.post(NEW, basics(**changes))
    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_body_past_the_limit_is_refused_cleanly(console_as):
    op = console_as(Role.EXECUTION)
    response = op.post(NEW, basics(description="长" * 2_000_000))
    assert response.status_code in (400, 413)
    assert not Campaign.objects.exists()


def test_the_errors_are_in_english_for_an_english_operator(console_as):
    op = console_as(Role.EXECUTION)
    op.cookies["django_language"] = "en"
    page = op.post(NEW, basics(title=" ")).content.decode()
    assert "The title cannot be blank." in page and "Step 1: Basics" in page


def test_the_editor_is_in_chinese_by_default(console_as):
    op = console_as(Role.EXECUTION)
    page = op.get(NEW).content.decode()
    assert "新建活动" in page and "基本信息" in page


def test_a_published_campaigns_locked_rules_are_refused_on_the_fields(console_as):
    # given
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory(status="published", capacity=10)
    data = basics(
        title=campaign.title,
        type="promotion",
        rules_text="换个规则",  # a rule: locked
        signup_start_at=local(campaign.signup_start_at),
        signup_end_at=local(campaign.signup_end_at),
        event_start_at=local(campaign.event_start_at),
        event_end_at=local(campaign.event_end_at),
        capacity="10",
        description="",
        theme="",
        reward_description="",
    )
    # when
    response = op.post(edit(campaign.pk, "basics"), data)
    # then
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_rules_text_error"' in page and 'id="id_title_error"' not in page
    campaign.refresh_from_db()
    assert campaign.rules_text != "换个规则"
    # a cosmetic change and more capacity pass
    response = op.post(
        edit(campaign.pk, "basics"),
        data | {"rules_text": campaign.rules_text, "title": "新标题", "capacity": "20"},
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.title == "新标题" and campaign.capacity == 20


def test_a_locked_eligibility_rule_is_refused_on_the_form(console_as):
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory(status="published")
    response = op.post(edit(campaign.pk, "eligibility"), {"min_age": "30"})
    assert response.status_code == 422
    assert "alert-danger" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.eligibility == {}


def test_eligibility_is_validated_as_the_operator_types(console_as):
    # given
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory(
        form=[
            {
                "key": "city",
                "label": "城市",
                "type": "single_choice",
                "options": [{"value": "sh", "label": "上海"}],
            }
        ]
    )
    url = edit(campaign.pk, "eligibility") + "validate/"
    # when: max below min
    response = op.post(url, {"min_age": "40", "max_age": "20"}, HTTP_HX_REQUEST="true")
    # then: the fragment says so, nothing saved
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert "alert-danger" in page and "最大年龄不能小于最小年龄" in page
    # an answer that is not an option of the question
    response = op.post(url, {"min_age": "18", "required_answers": "city = bj"}, HTTP_HX_REQUEST="true")
    assert 'href="#id_required_answers"' in response.content.decode()
    # an age out of range, on its field
    response = op.post(url, {"min_age": str(10**20)}, HTTP_HX_REQUEST="true")
    assert 'href="#id_min_age"' in response.content.decode()
    response = op.post(url, {"required_answers": "nope = x"}, HTTP_HX_REQUEST="true")
    assert 'href="#id_required_answers"' in response.content.decode()
    response = op.post(url, {"min_age": "18", "required_answers": "city = sh"}, HTTP_HX_REQUEST="true")
    assert "alert-danger" not in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.eligibility == {}


def test_basics_are_validated_as_the_operator_types_on_a_new_campaign(console_as):
    op = console_as(Role.EXECUTION)
    response = op.post(NEW + "validate/", basics(event_end_at="2020-01-01T00:00", capacity="0"))
    page = response.content.decode()
    assert 'href="#id_event_end_at"' in page and 'href="#id_capacity"' in page
    assert not Campaign.objects.exists()


def test_participation_limit_needs_both_numbers(console_as):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    response = op.post(edit(campaign.pk, "eligibility"), {"limit_count": "2"})
    assert response.status_code == 422
    assert 'id="id_limit_period_days_error"' in response.content.decode()
    response = op.post(
        edit(campaign.pk, "eligibility"),
        {
            "limit_count": "2",
            "limit_period_days": "30",
            "genders": ["female"],
            "regions_allow": "310000, 440000",
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.eligibility == {
        "participation_limit": {"count": 2, "period_days": 30}, "genders": ["female"], "regions_allow": ["310000", "440000"]
    }  # fmt: skip


@pytest.mark.parametrize("value", ["-1", str(10**20), "x"])
def test_bad_reminder_hours_are_refused_on_the_field(console_as, value):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    response = op.post(
        edit(campaign.pk, "notifications"), {"notify_channels": ["sms"], "reminder_hours_before": value}
    )
    assert response.status_code == 422
    assert 'id="id_reminder_hours_before_error"' in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/console/campaigns/999999/edit/basics/",
        f"/console/campaigns/{2**64}/edit/basics/",
        "/console/campaigns/1/edit/nope/",
        "/console/campaigns/999999/preview/",
    ],
)
def test_unknown_campaigns_and_steps_are_404(console_as, url):
    op = console_as(Role.STRATEGY)
    assert op.get(url).status_code == 404


def test_execution_can_edit_but_not_publish(console_as):
    # given
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    # the review page hides the publish button
    page = op.get(edit(campaign.pk, "review")).content.decode()
    assert "/do/publish/" not in page
    # and the server refuses it
    assert op.post(f"/console/campaigns/{campaign.pk}/do/publish/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "draft"


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.AUDITOR])
def test_support_and_auditor_cannot_edit(console_as, role):
    op = console_as(role)
    campaign = CampaignFactory()
    assert op.get(NEW).status_code == 403
    assert op.post(NEW, basics()).status_code == 403
    assert op.post(edit(campaign.pk, "basics"), basics()).status_code == 403
    assert op.get(edit(campaign.pk, "form")).status_code == 403
    assert op.post(edit(campaign.pk, "eligibility") + "validate/", {}).status_code == 403
    assert not Campaign.objects.exclude(pk=campaign.pk).exists()


def test_the_preview_renders_the_member_page_framed_by_the_console_only(console_as):
    op = console_as(Role.SUPPORT)
    campaign = CampaignFactory(title="预览活动")
    response = op.get(f"/console/campaigns/{campaign.pk}/preview/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "预览活动" in response.content.decode()
    assert "h5/campaign_preview.html" in [t.name for t in response.templates]


@pytest.mark.parametrize(
    "data",
    [
        {"q-TOTAL_FORMS": str(10**9), "q-INITIAL_FORMS": "0"},
        {"q-TOTAL_FORMS": "x"},
        {},
        questions(SIZE | {"options": "长" * 20_001}, op="save"),
        questions(CITY | {"max_length": str(10**20)}, op="save"),
        questions(CITY | {"min_date": "1800-01-01"}, op="save"),
        questions(SIZE, op="up-99999999999999999999"),
        questions(SIZE, op="explode"),
    ],
    ids=[
        "forms-1e9",
        "forms-not-a-number",
        "no-management-form",
        "huge-options",
        "huge-number",
        "year-1800",
        "move-far",
        "unknown-op",
    ],
)
def test_tampered_or_huge_form_builder_input_never_500s(console_as, data):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    response = op.post(edit(campaign.pk, "form"), data)
    assert response.status_code in (200, 422)
    campaign.refresh_from_db()
    assert campaign.form == []


def test_a_saved_filter_id_past_the_range_is_404(console_as):
    op = console_as(Role.EXECUTION)
    assert op.post(f"/console/campaigns/filters/{2**70}/delete/").status_code == 404


@pytest.mark.parametrize("op", ["up-²", "down-١", "remove-٣", "up-99999999999999999999"])
def test_a_builder_button_with_unicode_digits_redraws_the_rows(op):
    from yunying.console.views.campaign_editor import _builder_op

    assert _builder_op(op, [{"key": "a"}, {"key": "b"}]) is None


def test_purchase_rules_are_saved_in_fen_and_shown_back_in_yuan(console_as):
    # given
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    # when
    response = op.post(
        edit(campaign.pk, "eligibility"),
        {"min_paid_yuan": "199.90", "min_orders": "2", "purchase_period_days": "90"},
    )
    # then
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.eligibility == {"min_paid_fen": 19990, "min_orders": 2, "purchase_period_days": 90}
    page = op.get(edit(campaign.pk, "eligibility")).content.decode()
    assert 'value="199.90"' in page and 'name="purchase_period_days"' in page
    detail = op.get(f"/console/campaigns/{campaign.pk}/").content.decode()
    assert "199.90" in detail


def test_new_customers_only_is_saved_and_refused_with_thresholds(console_as):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    response = op.post(edit(campaign.pk, "eligibility"), {"first_order_only": "on", "min_orders": "1"})
    assert response.status_code == 422
    campaign.refresh_from_db()
    assert campaign.eligibility == {}
    response = op.post(edit(campaign.pk, "eligibility"), {"first_order_only": "on"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.eligibility == {"first_order_only": True}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"min_paid_yuan": "0"}, "min_paid_yuan"),
        ({"min_paid_yuan": "1.234"}, "min_paid_yuan"),
        ({"min_paid_yuan": "x"}, "min_paid_yuan"),
        ({"min_paid_yuan": str(10**9)}, "min_paid_yuan"),
        ({"min_orders": "0"}, "min_orders"),
        ({"min_orders": "1", "purchase_period_days": "0"}, "purchase_period_days"),
    ],
    ids=["zero", "three-decimals", "text", "huge", "no-orders", "no-days"],
)
def test_bad_purchase_rules_are_refused_on_the_field(console_as, data, field):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory()
    response = op.post(edit(campaign.pk, "eligibility"), data)
    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
