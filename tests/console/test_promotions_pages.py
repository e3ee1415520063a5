"""Promotions in the console: who sees and changes what (403 otherwise); the editor saves every
kind, refuses bad input with field errors (never a 500) and a stale edit; the preview prices the
unsaved form; transitions, coupons, codes and budgets write their audit rows."""

from __future__ import annotations

import pytest

from tests.members.factories import MemberFactory
from tests.promotions.helpers import promotion_make
from yunying.console.promotion_forms import permille_to_zhe, zhe_to_permille
from yunying.console.views import promotion_budgets, promotion_coupons, promotions
from yunying.core.models import AuditEntry
from yunying.core.permissions import ROLE_PERMISSIONS, Role
from yunying.promotions.models import Promotion, PromotionState

pytestmark = pytest.mark.django_db

ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]
PATTERNS = [p for m in (promotions, promotion_coupons, promotion_budgets) for p in m.urlpatterns]


def _form(**changes) -> dict:
    data = {
        "name": "双十二满减",
        "kind": "spend_off",
        "starts_at": "2026-01-01T00:00",
        "ends_at": "",
        "step_0_threshold": "200",
        "step_0_value": "30",
        "priority": "0",
        "per_member_limit": "1",
        "issuer": "shop",
    }
    data.update(changes)
    return data


# -- permissions ------------------------------------------------------------------------------------
def test_every_view_declares_its_permission():
    assert all(pattern.callback.console_perm is not None for pattern in PATTERNS)


@pytest.mark.parametrize(
    ("pattern", "role"),
    [
        pytest.param(pattern, role, id=f"{pattern.name}-{role}")
        for pattern in PATTERNS
        for role in ROLES
        if pattern.callback.console_perm not in ROLE_PERMISSIONS[role]
    ],
)
def test_a_role_without_the_permission_gets_403(console_as, pattern, role):
    url = "/console/" + str(pattern.pattern)
    for name in ("promotion_id", "budget_id", "batch_id", "topup_id"):
        url = url.replace(f"<int:{name}>", "1")
    client = console_as(role)
    assert client.get(url).status_code in (403, 405)
    assert client.post(url, {"to": "active"}).status_code == 403


@pytest.mark.parametrize(
    ("role", "list_status", "new_status"),
    [
        (Role.STRATEGY, 200, 200),
        (Role.EXECUTION, 200, 200),
        (Role.SUPPORT, 200, 403),
        (Role.AUDITOR, 403, 403),
    ],
)
def test_who_sees_the_promotions_and_who_may_create_one(console_as, role, list_status, new_status):
    client = console_as(role)
    assert client.get("/console/promotions/").status_code == list_status
    assert client.get("/console/promotions/budgets/").status_code == list_status
    assert client.get("/console/promotions/new/").status_code == new_status


def test_support_sees_a_promotion_but_cannot_save_or_start_it(console_as):
    promotion = promotion_make("spend_off", start=False, steps=[[20000, 3000]])
    client = console_as(Role.SUPPORT)
    page = client.get(f"/console/promotions/{promotion.pk}/")
    assert page.status_code == 200 and "save-promotion" not in page.content.decode()
    assert client.post(f"/console/promotions/{promotion.pk}/", _form(base_version="1")).status_code == 403
    assert client.post(f"/console/promotions/{promotion.pk}/state/", {"to": "active"}).status_code == 403
    assert client.post("/console/promotions/budgets/", {"scope": "channel"}).status_code == 403
    promotion.refresh_from_db()
    assert (promotion.version, promotion.state) == (1, PromotionState.DRAFT)


def test_execution_may_not_approve_a_top_up(console_as):
    assert console_as(Role.EXECUTION).post("/console/promotions/topups/1/decide/").status_code == 403


# -- the list ---------------------------------------------------------------------------------------
def test_the_list_searches_and_filters_and_summarises(console_as):
    promotion_make("spend_off", steps=[[20000, 3000]], name="年货节满减")
    promotion_make("coupon_off", start=False, threshold_fen=10000, off_fen=1000, name="新人券")
    client = console_as(Role.EXECUTION)
    page = client.get("/console/promotions/?q=年货").content.decode()
    assert "年货节满减" in page and "新人券" not in page
    assert "200" in page and "30" in page  # the summary of the ladder
    page = client.get("/console/promotions/?state=draft&kind=coupon_off").content.decode()
    assert "新人券" in page and "年货节满减" not in page
    assert client.get("/console/promotions/?state=nonsense&kind=①&page=②").status_code == 200


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url", ["/console/promotions/", "/console/promotions/budgets/", "/console/promotions/{template}/coupons/"]
)
def test_the_pages_run_as_many_queries_with_one_row_as_with_many(console_as, url):
    from yunying.core.permissions import SYSTEM
    from yunying.promotions.services import budget_create, code_batch_create, coupon_issue

    client = console_as(Role.EXECUTION)
    template = promotion_make("coupon_off", threshold_fen=10000, off_fen=1000, name="券")
    url = url.format(template=template.pk)

    def add_rows(n: int) -> None:
        for i in range(n):
            promotion = promotion_make("spend_off", steps=[[20000, 3000]], name=f"满减{i}{n}")
            budget_create(scope="promotion", promotion_id=promotion.pk, base_fen=1000, actor=SYSTEM)
            member = MemberFactory()
            coupon_issue(promotion_id=template.pk, member_id=member.pk, source="issue", actor=SYSTEM)
            code_batch_create(promotion_id=template.pk, name=f"b{i}{n}", size=2, actor=SYSTEM)

    add_rows(1)
    one = _queries(client, url)
    add_rows(4)
    # the budgets page draws one spend-by-day series per budget (at most CHARTED of them)
    extra = 4 if "budgets" in url else 0
    assert _queries(client, url) == one + extra


# -- the editor -------------------------------------------------------------------------------------
def test_creating_a_spend_off_saves_fen_and_audits(console_as):
    client = console_as(Role.EXECUTION)
    response = client.post("/console/promotions/new/", _form(step_1_threshold="500", step_1_value="100"))
    assert response.status_code == 302, response.content.decode()[:2000]
    promotion = Promotion.objects.get()
    assert promotion.terms["steps"] == [[20000, 3000], [50000, 10000]]
    assert promotion.state == PromotionState.DRAFT
    assert AuditEntry.objects.filter(action="promotion.create", object_id=str(promotion.pk)).exists()


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        ("special_price", {"price_yuan": "99.9", "skus": "TV-55"}, {"price_fen": 9990}),
        ("member_price", {"zhe": "9.5", "min_tier_rank": "2"}, {"permille": 950, "min_tier_rank": 2}),
        ("member_price", {"zhe": ""}, {"permille": 0}),
        ("spend_percent", {"step_0_threshold": "300", "step_0_value": "9"}, {"steps": [[30000, 900]]}),
        ("items_percent", {"step_0_threshold": "3", "step_0_value": "8.5"}, {"steps": [[3, 850]]}),
        ("gift", {"threshold_yuan": "100", "gift_sku": "BAG-1", "gift_quantity": "1"}, {"gift_sku": "BAG-1"}),
        ("coupon_off", {"threshold_yuan": "100", "off_yuan": "10", "valid_days": "30"}, {"off_fen": 1000}),
        (
            "coupon_percent",
            {"zhe": "8.8", "cap_yuan": "50", "valid_days": "7"},
            {"permille": 880, "cap_fen": 5000},
        ),
        ("coupon_shipping", {"valid_days": "7"}, {"cap_fen": 0}),
        ("coupon_gift", {"gift_sku": "CUP", "gift_quantity": "2", "valid_days": "7"}, {"gift_quantity": 2}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_kind_saves_from_the_editor(console_as, kind, fields, expected):
    client = console_as(Role.STRATEGY)
    data = _form(kind=kind, **{"step_0_threshold": "", "step_0_value": "", **fields})
    response = client.post("/console/promotions/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    terms = Promotion.objects.get().terms
    assert {key: terms[key] for key in expected} == expected


def test_coupon_fields_scope_and_stacking_are_saved(console_as):
    client = console_as(Role.EXECUTION)
    data = _form(
        kind="coupon_off", step_0_threshold="", step_0_value="", threshold_yuan="0", off_yuan="20",
        issuer="platform", claimable="on", issue_limit="1000", per_member_limit="2", valid_days="15",
        issue_on=["registration", "first_order"], points_price="500", skus="TEA-1, TEA-2\nTEA-3",
        exclude_categories="gift-card", channels="app, mini", exclusive="on", not_with=["2"],
        campaign_id="7", use_limit="100", priority="5",
    )  # fmt: skip
    assert client.post("/console/promotions/new/", data).status_code == 302
    p = Promotion.objects.get()
    assert (p.issuer, p.claimable, p.issue_limit, p.per_member_limit, p.valid_days, p.points_price) == (
        "platform", True, 1000, 2, 15, 500,
    )  # fmt: skip
    assert p.issue_on == ["registration", "first_order"]
    assert p.scope == {"skus": ["TEA-1", "TEA-2", "TEA-3"], "exclude_categories": ["gift-card"]}
    assert (p.channels, p.exclusive, p.not_with, p.campaign_id, p.use_limit, p.priority) == (
        ["app", "mini"], True, [2], 7, 100, 5,
    )  # fmt: skip
    # and the editor shows them again as typed
    page = client.get(f"/console/promotions/{p.pk}/").content.decode()
    assert "TEA-1\nTEA-2\nTEA-3" in page and 'value="20"' in page and "app, mini" in page


@pytest.mark.parametrize(
    ("changes", "field_id"),
    [
        ({"name": ""}, "id_name"),
        ({"starts_at": ""}, "id_starts_at"),
        ({"starts_at": "9999-01-01T00:00"}, "id_starts_at"),
        ({"ends_at": "2025-01-01T00:00"}, "id_ends_at"),
        ({"kind": "special_price", "price_yuan": ""}, "id_price_yuan"),
        ({"kind": "special_price", "price_yuan": "-5"}, "id_price_yuan"),
        ({"kind": "special_price", "price_yuan": "①"}, "id_price_yuan"),
        ({"kind": "special_price", "price_yuan": "12.345"}, "id_price_yuan"),
        ({"kind": "special_price", "price_yuan": "99999999999"}, "id_price_yuan"),
        ({"kind": "special_price", "price_yuan": "9" * 5000}, "id_price_yuan"),
        ({"kind": "member_price", "zhe": "10"}, "id_zhe"),
        ({"kind": "member_price", "zhe": "８"}, "id_zhe"),
        ({"kind": "coupon_percent", "zhe": "-1", "valid_days": "7"}, "id_zhe"),
        ({"kind": "coupon_off", "threshold_yuan": "10", "off_yuan": "20", "valid_days": "7"}, "id_off_yuan"),
        ({"kind": "coupon_off", "off_yuan": "5"}, "id_valid_days"),
        ({"kind": "coupon_off", "off_yuan": "5", "valid_days": "①"}, "id_valid_days"),
        ({"priority": "²"}, "id_priority"),
        ({"priority": "1" * 30}, "id_priority"),
        ({"use_limit": "-1"}, "id_use_limit"),
        ({"campaign_id": "99999999999999999999"}, "id_campaign_id"),
        ({"channels": "App Store"}, "id_channels"),
        ({"kind": "gift", "gift_sku": "", "gift_quantity": "1"}, "id_gift_sku"),
        ({"kind": "nonsense"}, "id_kind"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, dict) else v,
)
def test_bad_input_is_a_field_error_next_to_the_field_with_the_input_kept(console_as, changes, field_id):
    client = console_as(Role.EXECUTION)
    response = client.post("/console/promotions/new/", _form(**changes))
    page = response.content.decode()
    assert response.status_code == 422
    assert f'id="{field_id}_error"' in page
    assert "双十二满减" in page or changes.get("name") == ""  # what was typed comes back
    assert not Promotion.objects.exists()


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ({"step_0_threshold": "", "step_0_value": ""}, "至少"),
        ({"step_0_threshold": "20", "step_0_value": "30"}, "门槛"),  # amount off above its threshold
        ({"step_0_threshold": "①", "step_0_value": "30"}, "阶梯"),
        ({"step_0_threshold": "200", "step_0_value": "-3"}, "阶梯"),
        ({"step_1_threshold": "100", "step_1_value": "50"}, "更高"),  # a higher step gives less
        ({"step_1_threshold": "200", "step_1_value": "40"}, "门槛"),  # the same threshold twice
    ],
)
def test_ladder_mistakes_are_shown_at_the_ladder(console_as, steps, message):
    response = console_as(Role.EXECUTION).post("/console/promotions/new/", _form(**steps))
    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="steps-error"' in page
    assert not Promotion.objects.exists()


def test_an_edit_carries_its_version_and_a_stale_one_is_refused(console_as):
    promotion = promotion_make("spend_off", start=False, steps=[[20000, 3000]])
    client = console_as(Role.EXECUTION)
    assert (
        client.post(f"/console/promotions/{promotion.pk}/", _form(base_version="1", name="改名")).status_code
        == 302
    )
    promotion.refresh_from_db()
    assert (promotion.name, promotion.version) == ("改名", 2)
    entry = AuditEntry.objects.get(action="promotion.update", object_id=str(promotion.pk))
    assert entry.after["name"] == "改名"
    # a second tab still at version 1
    response = client.post(f"/console/promotions/{promotion.pk}/", _form(base_version="1", name="又改"))
    assert response.status_code == 409
    assert "又改" in response.content.decode()
    promotion.refresh_from_db()
    assert promotion.name == "改名"


def test_start_pause_resume_end_are_audited_and_an_ended_one_does_not_restart(console_as):
    promotion = promotion_make("spend_off", start=False, steps=[[20000, 3000]])
    client = console_as(Role.EXECUTION)
    url = f"/console/promotions/{promotion.pk}/state/"
    for to in ("active", "paused", "active", "ended"):
        assert client.post(url, {"to": to}).status_code == 302
        promotion.refresh_from_db()
        assert promotion.state == to
    assert AuditEntry.objects.filter(action="promotion.transition", object_id=str(promotion.pk)).count() == 4
    page = client.post(url, {"to": "active"}, follow=True).content.decode()
    assert "不能" in page or "cannot" in page
    assert client.post(url, {"to": "①"}).status_code == 302
    promotion.refresh_from_db()
    assert promotion.state == PromotionState.ENDED
    assert client.get("/console/promotions/99999999999999999999999/").status_code == 404


# -- the preview ------------------------------------------------------------------------------------
def _cart(**extra) -> dict:
    cart = {
        "cart_0_sku": "TEA-1", "cart_0_category": "tea", "cart_0_price": "120", "cart_0_qty": "1",
        "cart_1_sku": "CUP-1", "cart_1_category": "ware", "cart_1_price": "40", "cart_1_qty": "2",
        "cart_tier": "0",
    }  # fmt: skip
    cart.update(extra)
    return cart


def test_the_preview_prices_the_unsaved_form(console_as):
    client = console_as(Role.SUPPORT)  # reading is enough: the preview writes nothing
    page = client.post("/console/promotions/preview/", {**_form(), **_cart()}).content.decode()
    assert 'id="preview-payable">170.00' in page  # ¥200 − ¥30
    assert "本促销" in page
    page = client.post("/console/promotions/preview/", {**_form(), **_cart(cart_1_qty="1")}).content.decode()
    assert 'id="preview-payable">160.00' in page  # ¥160 misses 满200
    assert "未达到门槛" in page or "门槛" in page
    assert not Promotion.objects.exists()


def test_the_preview_replaces_the_saved_version_and_names_the_other_offers(console_as):
    running = promotion_make("special_price", price_fen=9900, skus=["TEA-1"], name="茶叶限时价")
    saved = promotion_make("spend_off", steps=[[20000, 3000]])
    data = {**_form(step_0_threshold="100", step_0_value="10"), **_cart(), "promotion_id": str(saved.pk)}
    page = console_as(Role.EXECUTION).post("/console/promotions/preview/", data).content.decode()
    assert "茶叶限时价" in page
    assert 'id="preview-payable">169.00' in page  # 99 + 80 = 179, 满100减10
    assert running.pk


@pytest.mark.parametrize(
    "bad",
    [
        {"cart_0_price": "①"},
        {"cart_0_qty": "0"},
        {"cart_0_qty": "99999"},
        {"cart_tier": "²"},
        {"cart_0_sku": ""},
    ],
)
def test_a_bad_sample_cart_says_so_and_is_no_500(console_as, bad):
    response = console_as(Role.EXECUTION).post("/console/promotions/preview/", {**_form(), **_cart(**bad)})
    assert response.status_code == 200
    assert "cart-problems" in response.content.decode()


def test_the_preview_lists_field_errors_and_the_stacking(console_as):
    page = (
        console_as(Role.EXECUTION)
        .post("/console/promotions/preview/", {**_form(step_0_value="300", exclusive="on"), **_cart()})
        .content.decode()
    )
    assert "preview-errors" in page and "stacking" in page


# -- units ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "permille"),
    [("8.5", 850), ("9", 900), ("8.55", 855), ("8.5折", 850), ("", None), ("①", None), ("８", None),
     ("-1", None), ("8.555", None), ("100", None)],
)  # fmt: skip
def test_zhe_to_permille(text, permille):
    assert zhe_to_permille(text) == permille


def test_permille_reads_back_as_zhe():
    assert [permille_to_zhe(p) for p in (850, 900, 855, 0)] == ["8.5", "9", "8.55", "0"]


# -- coupons ----------------------------------------------------------------------------------------
@pytest.fixture
def template():
    return promotion_make(
        "coupon_off", threshold_fen=10000, off_fen=1000, issue_limit=100, name="满100减10券"
    )


def test_issuing_to_listed_members_reports_the_unknown_and_creates_no_one(console_as, template):
    a = MemberFactory(phone="+8613900000001")
    MemberFactory(phone="+8613900000002")
    client = console_as(Role.STRATEGY)  # by phone: a member look-up (execution may not: next test)
    page = client.get(f"/console/promotions/{template.pk}/coupons/").content.decode()
    once = page.split('name="once" value="')[1].split('"')[0]
    members_before = type(a).objects.count()
    data = {"action": "issue", "kind": "phone", "once": once,
            "identifiers": "13900000001\n13900000002, 13900000009\nnot-a-phone"}  # fmt: skip
    response = client.post(f"/console/promotions/{template.pk}/coupons/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "13900000009" in page and "not-a-phone" in page
    assert type(a).objects.count() == members_before
    template.refresh_from_db()
    assert template.issued_count == 2
    assert AuditEntry.objects.filter(action="coupon.issue_many", object_id=str(template.pk)).exists()
    # the same form again issues nothing more
    client.post(f"/console/promotions/{template.pk}/coupons/", data)
    template.refresh_from_db()
    assert template.issued_count == 2


def test_execution_cannot_probe_phones_by_issuing_to_them(console_as, template):
    """Which phones are members is a look-up execution may not do (attacker review: the report of
    unknown numbers answered it for a thousand phones at a time)."""
    MemberFactory(phone="+8613900000001")
    response = console_as(Role.EXECUTION).post(
        f"/console/promotions/{template.pk}/coupons/",
        {"action": "issue", "kind": "phone", "identifiers": "13900000001\n13900000009"},
    )
    assert (
        response.status_code == 403 and "13900000009" not in response.content.decode().split("textarea")[-1]
    )
    template.refresh_from_db()
    assert template.issued_count == 0


def test_issuing_from_a_template_not_running_is_a_message(console_as):
    draft = promotion_make("coupon_off", start=False, threshold_fen=0, off_fen=500)
    MemberFactory(phone="+8613900000001", external_id="E-1")
    response = console_as(Role.EXECUTION).post(
        f"/console/promotions/{draft.pk}/coupons/",
        {"action": "issue", "kind": "external_id", "identifiers": "E-1"},
    )
    assert response.status_code == 422 and "没有在进行" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "issue", "kind": "phone", "identifiers": ""},
        {"action": "issue", "kind": "fax", "identifiers": "1"},
        {"action": "generate", "name": "", "size": "10"},
        {"action": "generate", "name": "b", "size": "①"},
        {"action": "generate", "name": "b", "size": "-1"},
        {"action": "generate", "name": "b", "size": "99999999999999999999"},
        {"action": "import", "name": "b", "codes": ""},
        {"action": "import", "name": "b", "codes": "SHORT\nSHORT"},
        {"action": "segment", "segment": "①"},
        {"action": "void", "coupon_id": "①", "reason": ""},
        {"action": "nonsense"},
    ],
    ids=lambda d: "-".join(f"{k}={v}"[:12] for k, v in d.items()),
)
def test_bad_coupon_forms_are_refused_without_a_500(console_as, template, data):
    response = console_as(Role.EXECUTION).post(f"/console/promotions/{template.pk}/coupons/", data)
    assert response.status_code in (302, 422)
    template.refresh_from_db()
    assert template.issued_count == 0


def test_code_batches_generate_import_and_download_audited(console_as, template):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = console_as(Role.EXECUTION)
    url = f"/console/promotions/{template.pk}/coupons/"
    assert client.post(url, {"action": "generate", "name": "门店海报", "size": "5"}).status_code == 302
    upload = SimpleUploadedFile("codes.csv", b"code\nPARTNER001\nPARTNER002\n", content_type="text/csv")
    assert (
        client.post(
            url, {"action": "import", "name": "合作方", "codes": "PARTNER003", "file": upload}
        ).status_code
        == 302
    )
    template.refresh_from_db()
    assert template.issued_count == 8
    batch = template.code_batches.get(name="合作方")
    assert batch.size == 3 and batch.imported
    # the download is a secret: support cannot, execution can and it is audited
    assert (
        console_as(Role.SUPPORT).post(f"/console/promotions/code-batches/{batch.pk}/codes.csv").status_code
        == 403
    )
    response = client.post(f"/console/promotions/code-batches/{batch.pk}/codes.csv")
    body = response.content.decode("utf-8-sig")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert body.splitlines() == ["code,redeemed", "PARTNER001,no", "PARTNER002,no", "PARTNER003,no"]
    entry = AuditEntry.objects.get(action="coupon.codes_export")
    assert entry.after == {"batch": batch.pk, "codes": 3}
    assert client.get(f"/console/promotions/code-batches/{batch.pk}/codes.csv").status_code == 405
    assert client.post("/console/promotions/code-batches/999999/codes.csv").status_code == 404


def test_a_coupon_is_withdrawn_with_a_reason_and_counted(console_as, template):
    from yunying.core.permissions import SYSTEM
    from yunying.promotions.services import coupon_issue

    member = MemberFactory(phone="+8613900000001")
    coupon = coupon_issue(promotion_id=template.pk, member_id=member.pk, source="issue", actor=SYSTEM).coupon
    client = console_as(Role.EXECUTION)
    url = f"/console/promotions/{template.pk}/coupons/"
    assert (
        client.post(url, {"action": "void", "coupon_id": str(coupon.pk), "reason": "发错了"}).status_code
        == 302
    )
    coupon.refresh_from_db()
    assert coupon.state == "void"
    assert AuditEntry.objects.get(action="coupon.void").reason == "发错了"
    page = client.get(url).content.decode()
    assert 'id="count-void">1<' in page


def test_issuing_to_a_segment(console_as, template):
    from django.utils import timezone

    from yunying.analytics.models import Segment, SegmentMember

    segment = Segment.objects.create(name="高价值", rules={}, member_count=2)
    for n in (1, 2):
        member = MemberFactory(phone=f"+861390000000{n}")
        SegmentMember.objects.create(segment=segment, member=member, since=timezone.now())
    client = console_as(Role.EXECUTION)
    response = client.post(
        f"/console/promotions/{template.pk}/coupons/", {"action": "segment", "segment": str(segment.pk)}
    )
    assert response.status_code == 200
    template.refresh_from_db()
    assert template.issued_count == 2


# -- budgets ----------------------------------------------------------------------------------------
def test_a_budget_is_created_based_topped_up_and_approved_by_another(console_as):
    promotion = promotion_make("spend_off", steps=[[20000, 3000]], name="年货节")
    execution = console_as(Role.EXECUTION)
    response = execution.post(
        "/console/promotions/budgets/", {"scope": "promotion", "promotion": str(promotion.pk), "base": "5000"}
    )
    assert response.status_code == 302
    budget = promotion.budget
    assert budget.base_fen == 500000
    # raising the base is a top-up (two people), not an edit: refused, the base unchanged
    raised = execution.post(
        f"/console/promotions/budgets/{budget.pk}/base/", {"base": "6000.5", "reason": "加码"}
    )
    assert raised.status_code == 422 and "追加" in raised.content.decode()
    budget.refresh_from_db()
    assert budget.base_fen == 500000
    # lowering it is one person's call
    assert (
        execution.post(
            f"/console/promotions/budgets/{budget.pk}/base/", {"base": "4000.5", "reason": "收紧"}
        ).status_code
        == 302
    )
    budget.refresh_from_db()
    assert budget.base_fen == 400050
    assert (
        execution.post(
            f"/console/promotions/budgets/{budget.pk}/topup/", {"amount": "1000", "reason": "爆单"}
        ).status_code
        == 302
    )
    topup = budget.topups.get()
    # the strategy operator who asked cannot approve their own
    strategy = console_as(Role.STRATEGY)
    assert (
        strategy.post(
            f"/console/promotions/budgets/{budget.pk}/topup/", {"amount": "1", "reason": "自己"}
        ).status_code
        == 302
    )
    own = budget.topups.get(reason="自己")
    page = strategy.post(f"/console/promotions/topups/{own.pk}/decide/", {"decision": "approve"}, follow=True)
    assert "另一位" in page.content.decode()
    own.refresh_from_db()
    assert own.state == "pending"
    # they approve the other's
    assert (
        strategy.post(
            f"/console/promotions/topups/{topup.pk}/decide/", {"decision": "approve", "note": "同意"}
        ).status_code
        == 302
    )
    budget.refresh_from_db()
    assert budget.cap_fen == 400050 + 100000
    actions = set(AuditEntry.objects.filter(object_type="budget").values_list("action", flat=True))
    assert actions == {"budget.create", "budget.set_base", "budget.topup_request", "budget.topup_approve"}
    page = strategy.get("/console/promotions/budgets/").content.decode()
    assert "chart-budgets" in page and "chart-spend" in page and "roi-method" in page


@pytest.mark.parametrize(
    ("url_tail", "data"),
    [
        ("", {"scope": "channel", "channel": "app", "base": ""}),
        ("", {"scope": "channel", "channel": "app", "base": "-1"}),
        ("", {"scope": "channel", "channel": "app", "base": "①"}),
        ("", {"scope": "channel", "channel": "app", "base": "99999999999999"}),
        ("", {"scope": "channel", "channel": "", "base": "10"}),
        ("", {"scope": "campaign", "campaign_id": "99999999999999999999", "base": "10"}),
        ("", {"scope": "promotion", "promotion": "", "base": "10"}),
        ("", {"scope": "moon", "base": "10"}),
        ("{id}/base/", {"base": "", "reason": ""}),
        ("{id}/base/", {"base": "²"}),
        ("{id}/topup/", {"amount": "0", "reason": "x"}),
        ("{id}/topup/", {"amount": "100", "reason": ""}),
        ("{id}/topup/", {"amount": "1" * 30, "reason": "x"}),
    ],
)
def test_bad_budget_input_is_a_field_error_not_a_500(console_as, url_tail, data):
    from yunying.core.permissions import SYSTEM
    from yunying.promotions.services import budget_create

    budget = budget_create(scope="channel", channel="mini", base_fen=100, actor=SYSTEM)
    response = console_as(Role.EXECUTION).post(
        "/console/promotions/budgets/" + url_tail.format(id=budget.pk), data
    )
    assert response.status_code == 422
    assert "is-invalid" in response.content.decode() or "alert-danger" in response.content.decode()
    budget.refresh_from_db()
    assert (budget.base_fen, budget.topups.count()) == (100, 0)


def test_a_base_below_the_spend_and_a_second_budget_for_one_channel_are_refused(console_as):
    from yunying.core.permissions import SYSTEM
    from yunying.promotions.models import Budget
    from yunying.promotions.services import budget_create

    budget = budget_create(scope="channel", channel="app", base_fen=10000, actor=SYSTEM)
    Budget.objects.filter(pk=budget.pk).update(spent_fen=5000)
    client = console_as(Role.EXECUTION)
    response = client.post(f"/console/promotions/budgets/{budget.pk}/base/", {"base": "10"})
    assert response.status_code == 422 and "50.00" in response.content.decode()
    response = client.post(
        "/console/promotions/budgets/", {"scope": "channel", "channel": "app", "base": "10"}
    )
    assert response.status_code == 409


def test_budget_alerts_are_listed(console_as):
    from yunying.core.alerts import alert_raise

    alert_raise("promotions.budget_80", budget_id=1, key="channel:app", spent_fen=8000, cap_fen=10000)
    page = console_as(Role.SUPPORT).get("/console/promotions/budgets/").content.decode()
    assert "channel:app" in page and "80%" in page


def test_a_budget_crossing_80_percent_raises_its_alert_with_its_flag_and_the_page_lists_it(
    console_as, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from yunying.core.models import Alert
    from yunying.core.permissions import SYSTEM
    from yunying.promotions.models import Budget
    from yunying.promotions.services import budget_alerts_check, budget_create

    budget = budget_create(scope="channel", channel="mini", base_fen=10000, actor=SYSTEM)
    Budget.objects.filter(pk=budget.pk).update(spent_fen=8000)
    # when
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        budget_alerts_check([budget.pk])
        assert Alert.objects.exists()  # in the transaction of its flag: a crash after commit keeps both
    # then
    alert = Alert.objects.get()
    assert (alert.code, alert.data["key"]) == ("promotions.budget_80", "channel:mini")
    assert "channel:mini" in console_as(Role.EXECUTION).get("/console/promotions/budgets/").content.decode()


def test_the_dashboard_charts_real_spend_and_the_roi_of_an_order(console_as):
    import json
    import re

    from tests.promotions.helpers import budget_make, ingest, order_from, quote

    # given 满200减30 with a ¥1000 budget, and one order that used it
    member = MemberFactory(phone="+8613900000001")
    spend_off = promotion_make("spend_off", steps=[[20000, 3000]], name="年货节满减")
    budget_make(spend_off, 100_000)
    ingest(order_from(quote(member.pk), "SO-1", phone="+8613900000001"))
    # when
    page = console_as(Role.STRATEGY).get("/console/promotions/budgets/").content.decode()
    # then: the gauge and the day chart carry the spend, the table what is left, the ROI its row
    charts = {
        name: json.loads(body)
        for name, body in re.findall(
            r'<script id="(chart-[a-z]+)" type="application/json">(.*?)</script>', page
        )
    }
    assert charts["chart-budgets"]["series"][0]["data"] == [30.0]
    assert charts["chart-budgets"]["series"][1]["data"] == [970.0]
    assert sum(charts["chart-spend"]["series"][0]["data"]) == 30.0
    assert "970.00" in page and "no-spend" not in page
    roi_table = page.split('id="roi-table"')[1]
    assert "年货节满减" in roi_table and "30.00" in roi_table
