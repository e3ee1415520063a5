"""How a value of the member's data export reads on the readable page (h5.export_view): amounts in
yuan, times in Beijing time, codes as their choices' labels, keys as words, unknown keys as
themselves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from yunying.campaigns.models import SignupStatus
from yunying.commerce.models import OrderStatus
from yunying.h5.export_view import ENUMS, export_view, key_label, value_node, value_text
from yunying.members.models import Gender


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("total_fen", 25600, "¥256.00"),
        ("paid_fen", 5, "¥0.05"),
        ("amount_fen", -1999, "¥-19.99"),
        ("balance_fen", 12345678, "¥123,456.78"),
        ("monetary_fen", 0, "¥0.00"),
        ("points", 25600, "25600"),  # not an amount: no ¥
    ],
)
def test_an_amount_in_fen_reads_as_yuan_with_two_decimals(key, value, shown):
    assert value_text(key, value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-12-05T16:30:00+00:00", "2026-12-06 00:30"),  # UTC after 16:00 is the next day in Beijing
        ("2026-12-05T08:05:59.123456+00:00", "2026-12-05 16:05"),
        ("2026-12-05T08:05:00Z", "2026-12-05 16:05"),
        ("2026-12-05T10:00:00+08:00", "2026-12-05 10:00"),
        ("2026-12-05", "2026-12-05"),  # a date has no time zone
    ],
)
def test_an_iso_time_reads_in_local_time(value, shown, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert value_text("paid_at", value) == shown


def test_a_datetime_reads_in_local_time(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert value_text("at", datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == "2026-01-01 08:00"


@pytest.mark.parametrize(
    ("holding", "key", "value", "shown"),
    [
        ("members.profile", "gender", "female", Gender.FEMALE.label),
        ("commerce.orders", "status", "partially_refunded", OrderStatus.PARTIALLY_REFUNDED.label),
        ("campaigns.signups", "status", "waitlisted", SignupStatus.WAITLISTED.label),
        ("campaigns.signups", "channel", "mini_program", "小程序"),
        ("risk.decisions", "entry", "order.ingest", "订单"),
        ("risk.decisions", "review", "approved", "已批准"),
        ("promotions.coupons", "source", "points", "积分兑换"),
        ("loyalty.points", "kind", "earn", "获得"),
        ("members.consent", "purpose", "marketing", "营销消息与优惠"),
        ("notify.messages", "status", "sent", "已发送"),
        ("notify.messages", "template", "signup_confirmed", "报名成功"),
        ("notify.messages", "template", "risk.warning", "安全提醒"),
        ("commerce.orders", "status", "teleported", "teleported"),  # a code with no label reads as itself
    ],
)
def test_a_code_reads_as_its_choices_label(holding, key, value, shown):
    assert value_text(key, value, enums=ENUMS[holding]) == shown


def test_the_same_key_reads_by_its_parent():
    data = {"promoter": {"state": "active"}, "statements": [{"state": "open"}]}
    node = value_node("loyalty.brokerage", data, enums=ENUMS["loyalty.brokerage"])
    promoter, statements = node["rows"]
    assert promoter["node"]["rows"][0]["node"]["text"] == "有效"
    assert statements["node"]["items"][0]["rows"][0]["node"]["text"] == "待支付"


@pytest.mark.parametrize(
    ("key", "parent", "shown"),
    [
        ("total_fen", "", "总金额"),
        ("gender", "", "性别"),
        ("source", "utm", "链接来源"),
        ("source", "postings", "来源"),
        ("shoe_size", "attributes", "shoe_size"),  # an unknown key reads as itself
    ],
)
def test_a_key_reads_as_its_label_else_as_itself(key, parent, shown):
    assert key_label(key, parent) == shown


@pytest.mark.parametrize(("value", "shown"), [(True, "是"), (False, "否"), (None, "—"), ("", "—")])
def test_yes_no_and_nothing(value, shown):
    assert value_text("marketing", value) == shown


def test_lists_read_as_cards_and_plain_lists_as_one_line():
    node = value_node("x", {"lines": [{"sku": "A1", "paid_fen": 100}], "segments": ["高价值", "新客"]})
    lines, segments = node["rows"]
    assert lines["label"] == "商品" and lines["node"]["kind"] == "cards"
    assert lines["node"]["items"][0]["rows"][1] == {
        "label": "消费金额",
        "node": {"kind": "text", "text": "¥1.00"},
    }
    assert segments["node"] == {"kind": "text", "text": "高价值、新客"}
    assert value_node("x", []) == {"kind": "empty"}


def test_tuples_read_with_their_columns():
    node = value_node("invited", [[42, "paid", 100]], enums=ENUMS["loyalty.referrals"])
    assert [(r["label"], r["node"]["text"]) for r in node["items"][0]["rows"]] == [
        ("好友（会员编号）", "42"), ("状态", "已奖励"), ("您获得的积分", "100"),
    ]  # fmt: skip


def test_the_export_reads_as_sections_with_the_access_log_and_consent(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    data = {
        "holdings": {
            "commerce.orders": {
                "label": "订单", "purpose": "p", "retention": "r", "shared_with": ["网店"],
                "data": [{"order": "E1", "status": "refunded", "total_fen": 25600, "paid_at": "2026-12-05T02:00:00+00:00"}],
            }
        },
        "access_log": [{"at": "2026-12-05T02:00:00+00:00", "by": "客服", "fields": "手机号", "purpose": "p"}],
        "consent": {
            "current": {"service": True, "marketing": False},
            "history": [{"purpose": "marketing", "granted": False, "policy_version": "2026-12", "channel": "h5",
                         "at": "2026-12-05T02:00:00+00:00"}],
        },
    }  # fmt: skip
    view = export_view(data)
    order = view["holdings"][0]["node"]["items"][0]["rows"]
    assert [(r["label"], r["node"]["text"]) for r in order] == [
        ("订单号", "E1"), ("状态", "已退款"), ("总金额", "¥256.00"), ("支付时间", "2026-12-05 10:00"),
    ]  # fmt: skip
    assert view["access_log"][0]["at"] == "2026-12-05 10:00"
    assert [c["label"] for c in view["consent_current"]] == ["基本服务（必需）", "营销消息与优惠"]
    history = {r["label"]: r["node"]["text"] for r in view["consent_history"]["items"][0]["rows"]}
    assert history == {"用途": "营销消息与优惠", "已同意": "否", "隐私政策版本": "2026-12", "渠道": "会员页面",
                       "时间": "2026-12-05 10:00"}  # fmt: skip


def test_an_object_with_nothing_filled_in_reads_as_none():
    assert value_node("utm", {"source": "", "medium": None}) == {"kind": "empty"}
    assert value_node("utm", {})["kind"] == "empty"
    assert value_node("utm", {"source": "wechat", "medium": ""})["kind"] == "rows"
