"""Risk configuration in the console: rule versions (create, stale, live and shadow with the
comparison), the allow and block lists and the risk register — strategy changes, execution and
support read, the auditor sees nothing; every refusal is on the server."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from yunying.console.views import risk_config
from yunying.core.permissions import ROLE_PERMISSIONS, SYSTEM, Role
from yunying.risk.defaults import BUILT_IN
from yunying.risk.models import Decision, ListEntry, RegisterItem, RuleState, RuleVersion
from yunying.risk.services import rule_version_create, rule_version_set_state

pytestmark = pytest.mark.django_db

ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]
PAGES = ["/console/risk/rules/", "/console/risk/rules/0/", "/console/risk/lists/", "/console/risk/register/"]


def _register(**changes) -> dict:
    data = {
        "title": "优惠券被批量薅取",
        "description": "脚本批量注册领券",
        "probability": "4",
        "impact": "4",
        "owner": "风控组 王敏",
        "response_plan": "领券入口接入风控，异常设备拦截",
        "status": "open",
        "review_on": "2027-01-15",
    }
    data.update(changes)
    return data


# -- permissions ------------------------------------------------------------------------------------
def test_every_view_declares_its_permission():
    assert all(pattern.callback.console_perm is not None for pattern in risk_config.urlpatterns)


@pytest.mark.parametrize(
    ("pattern", "role"),
    [
        pytest.param(pattern, role, id=f"{pattern.name}-{role}")
        for pattern in risk_config.urlpatterns
        for role in ROLES
        if pattern.callback.console_perm not in ROLE_PERMISSIONS[role]
    ],
)
def test_a_role_without_the_permission_gets_403(console_as, pattern, role):
    url = "/console/" + str(pattern.pattern).replace("<int:number>", "1").replace("<int:item_id>", "1")
    client = console_as(role)
    assert client.get(url).status_code == 403
    assert client.post(url, {"state": "live"}).status_code == 403


@pytest.mark.parametrize(("role", "view", "change"), [(Role.STRATEGY, 200, True), (Role.EXECUTION, 200, False), (Role.SUPPORT, 200, False), (Role.AUDITOR, 403, False)])  # fmt: skip
def test_who_sees_and_who_changes(console_as, role, view, change):
    client = console_as(role)
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == view, page
    if view == 200:
        rules = client.get("/console/risk/rules/").content.decode()
        assert ('id="rule-version-form"' in rules) is change
        assert "inhuman_fill" in rules
    version = rule_version_create(rules=BUILT_IN, reason="seed", based_on=None, actor=SYSTEM)
    posts = [
        ("/console/risk/rules/", {"rules": json.dumps(BUILT_IN), "reason": "x", "based_on": "0"}),
        (f"/console/risk/rules/{version.number}/", {"state": "live"}),
        ("/console/risk/lists/", {"kind": "ip", "value": "10.0.0.0/8", "verdict": "block", "note": "x"}),
        ("/console/risk/register/", _register()),
    ]
    for url, data in posts:
        status = client.post(url, data).status_code
        assert (status == 302) if change else (status == 403), (url, status)
    assert RuleVersion.objects.get(number=version.number).state == (
        RuleState.LIVE if change else RuleState.DRAFT
    )


# -- rules ------------------------------------------------------------------------------------------
def test_the_live_rules_read_as_text(console_as):
    page = console_as(Role.SUPPORT).get("/console/risk/rules/").content.decode()
    assert "fill_ms &lt; 1500 且 member.campaign_events ≤ 1" in page
    assert "表单填写速度快于正常阅读速度" in page  # the label, translated
    assert "内置版本 0" in page


def test_a_version_with_broken_json_keeps_the_input_and_names_the_problem(console_as):
    client = console_as(Role.STRATEGY)
    broken = '{"thresholds": {"review": 60}, "rules": [ {"key": "x",} ]}'
    response = client.post("/console/risk/rules/", {"rules": broken, "reason": "试验", "based_on": "0"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "不是有效的 JSON" in page and "第 1 行" in page
    assert "{&quot;key&quot;: &quot;x&quot;,}" in page  # the author's text, not the live rules
    assert not RuleVersion.objects.exists()


def test_a_rule_set_the_engine_refuses_is_a_form_error(console_as):
    client = console_as(Role.STRATEGY)
    bad = {"rules": [{"key": "a", "when": {"signal": "fill_ms", "op": "~", "value": 1}}]}
    response = client.post(
        "/console/risk/rules/", {"rules": json.dumps(bad), "reason": "试验", "based_on": "0"}
    )
    assert response.status_code == 422
    assert "rules.0.when" in response.content.decode()
    assert not RuleVersion.objects.exists()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[" * 3000 + "]" * 3000, "嵌套过深"),  # the JSON parser's own recursion limit
        (
            json.dumps(
                {"rules": [{"key": "a", "when": {"not": {"signal": "fill_ms", "op": "<", "value": 1}}}]}
            )
            .replace('{"signal"', '{"not": ' * 200 + '{"signal"', 1)
            .replace("}}]}", "}}" + "}" * 200 + "]}"),
            "条件嵌套超过 12 层",
        ),
        (
            '{"rules": [{"key": "a", "when": {"signal": "fill_ms", "op": "<", "value": 1e309}}]}',
            "取值须为文本",
        ),
        (
            '{"rules": [{"key": "a", "when": {"signal": "fill_ms", "op": "<", "value": NaN}}]}',
            "取值须为文本",
        ),
        (
            '{"rules": [{"key": "a", "label": {"a": 1}, "when": {"signal": "fill_ms", "op": "<", "value": 1}}]}',
            "label 须为文本",
        ),
        (
            '{"rules": [{"key": "a", "when": {"signal": "fil_ms", "op": "<", "value": 1}}]}',
            "没有名为",
        ),
        (
            '{"rules": [{"key": "a", "entries": ["nope", 5], "when": {"signal": "fill_ms", "op": "<", "value": 1}}]}',
            "entries 须为入口列表",
        ),
    ],
    ids=[
        "json-3000-deep",
        "conditions-200-deep",
        "infinity",
        "nan",
        "label-an-object",
        "signal-misspelt",
        "entry-unknown",
    ],
)
def test_a_rule_set_that_could_never_be_stored_or_judged_is_a_form_error_not_a_500(console_as, text, shown):
    response = console_as(Role.STRATEGY).post(
        "/console/risk/rules/", {"rules": text, "reason": "试验", "based_on": "0"}
    )
    assert response.status_code == 422
    assert shown in response.content.decode()
    assert not RuleVersion.objects.exists()


def test_a_rule_set_as_long_as_the_editor_allows_is_not_refused_by_the_body_limit(console_as):
    # given a rule set near the editor's limit, its labels Chinese (9 bytes each, form-encoded)
    rules = {"rules": [{"key": f"r{n}", "label": "很长的说明" * 30, "when": {"signal": "fill_ms", "op": "<", "value": n}, "points": 1} for n in range(300)]}  # fmt: skip
    text = json.dumps(rules, ensure_ascii=False)
    assert 50_000 < len(text) < 200_000
    response = console_as(Role.STRATEGY).post(
        "/console/risk/rules/", {"rules": text, "reason": "长", "based_on": "0"}
    )
    assert response.status_code == 302
    assert RuleVersion.objects.count() == 1


def test_a_stale_version_is_refused_with_rules_stale(console_as):
    client = console_as(Role.STRATEGY)
    first = rule_version_create(rules=BUILT_IN, reason="一", based_on=None, actor=SYSTEM)
    rule_version_set_state(number=first.number, state=RuleState.LIVE, actor=SYSTEM)
    response = client.post(
        "/console/risk/rules/", {"rules": json.dumps(BUILT_IN), "reason": "旧的", "based_on": "0"}
    )
    assert response.status_code == 409
    assert "规则在您打开后已被修改" in response.content.decode()
    assert RuleVersion.objects.count() == 1


def test_a_new_version_goes_into_shadow_and_is_compared_with_the_live_rules(console_as):
    client = console_as(Role.STRATEGY)
    stricter = json.loads(json.dumps(BUILT_IN))
    stricter["thresholds"]["review"] = 50
    response = client.post(
        "/console/risk/rules/", {"rules": json.dumps(stricter), "reason": "复核阈值降到 50", "based_on": "0"}
    )
    assert response.status_code == 302
    version = RuleVersion.objects.get()
    assert version.state == RuleState.DRAFT and version.based_on == 0 and version.rules == stricter
    assert client.post(f"/console/risk/rules/{version.number}/", {"state": "shadow"}).status_code == 302
    assert RuleVersion.objects.get().state == RuleState.SHADOW
    now = timezone.now()
    for ref, live, shadow in (("s1", "allow", "review"), ("s2", "allow", "allow"), ("s3", "block", "block")):
        for is_shadow, action in ((False, live), (True, shadow)):
            Decision.objects.create(entry="signup.create", subject_type="signup", subject_ref=ref, at=now, score=10, action=action, shadow=is_shadow)  # fmt: skip
    page = client.get(f"/console/risk/rules/{version.number}/").content.decode()
    assert 'id="shadow-comparison"' in page
    assert "在双方都判定过的 3 个对象中，有 1 个判定不同" in page
    assert client.post(f"/console/risk/rules/{version.number}/", {"state": "live"}).status_code == 302
    assert RuleVersion.objects.get().state == RuleState.LIVE
    assert "复核阈值降到 50" in client.get("/console/risk/rules/").content.decode()


# -- lists ------------------------------------------------------------------------------------------
def test_a_phone_is_added_as_a_hash_and_removed(console_as):
    client = console_as(Role.STRATEGY)
    response = client.post(
        "/console/risk/lists/",
        {"kind": "phone", "value": "13800138000", "verdict": "block", "note": "团伙手机号", "expires_on": ""},
    )
    assert response.status_code == 302
    entry = ListEntry.objects.get()
    assert "13800138000" not in entry.value and entry.hint == "138****8000"
    page = client.get("/console/risk/lists/").content.decode()
    assert "138****8000" in page and "13800138000" not in page and "团伙手机号" in page
    assert "手机号/身份证黑名单" in page
    assert client.post("/console/risk/lists/", {"remove": str(entry.pk)}).status_code == 302
    assert not ListEntry.objects.exists()


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (
            {"kind": "ip", "value": "0.0.0.0/0", "verdict": "block", "note": "x"},
            "范围大于 /8（IPv4）或 /32（IPv6）",
        ),
        (
            {
                "kind": "phone",
                "value": "13800138000",
                "verdict": "block",
                "note": "x",
                "expires_on": "9999-12-31",
            },
            "十年以内",
        ),
    ],
    ids=["everything", "expires-in-9999"],
)
def test_list_refusals_are_form_errors_in_the_operators_language(console_as, data, shown):
    response = console_as(Role.STRATEGY).post("/console/risk/lists/", data)
    assert response.status_code == 422
    assert shown in response.content.decode()
    assert not ListEntry.objects.exists()


@pytest.mark.parametrize("remove", ["²", "١", "9" * 40, "-1"])
def test_removing_by_an_id_that_is_not_ascii_digits_removes_nothing(console_as, remove):
    client = console_as(Role.STRATEGY)
    client.post(
        "/console/risk/lists/", {"kind": "ip", "value": "1.2.3.4/24", "verdict": "block", "note": "x"}
    )
    response = client.post("/console/risk/lists/", {"remove": remove})
    assert response.status_code in (302, 404, 422)
    assert ListEntry.objects.count() == 1


def test_an_invalid_list_entry_keeps_the_input(console_as):
    client = console_as(Role.STRATEGY)
    response = client.post(
        "/console/risk/lists/", {"kind": "phone", "value": "12345", "verdict": "allow", "note": "客户白名单"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "名单条目无效：不是中国大陆手机号" in page and 'value="12345"' in page and "客户白名单" in page
    assert not ListEntry.objects.exists()


# -- register ---------------------------------------------------------------------------------------
def test_a_risk_is_created_counted_in_its_cell_and_edited(console_as):
    client = console_as(Role.STRATEGY)
    assert client.post("/console/risk/register/", _register()).status_code == 302
    item = RegisterItem.objects.get()
    assert (item.probability, item.impact, item.owner) == (4, 4, "风控组 王敏")
    page = client.get("/console/risk/register/").content.decode()
    cell = page.split('id="cell-4-4"')[1].split("</td>")[0]
    assert 'class="cell-open">1<' in cell and "text-bg-danger" in page.split('id="cell-4-4"')[0][-80:]
    filtered = client.get("/console/risk/register/?probability=4&impact=4").content.decode()
    assert "优惠券被批量薅取" in filtered
    assert (
        "优惠券被批量薅取"
        not in client.get("/console/risk/register/?probability=1&impact=1").content.decode()
    )
    edit = client.get(f"/console/risk/register/{item.pk}/").content.decode()
    assert "风控组 王敏" in edit
    response = client.post(f"/console/risk/register/{item.pk}/", _register(status="mitigated", impact="2"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.impact) == ("mitigated", 2)


def test_an_impossible_probability_is_a_form_error(console_as):
    client = console_as(Role.STRATEGY)
    response = client.post("/console/risk/register/", _register(probability="9"))
    assert response.status_code == 422
    assert (
        'aria-invalid="true"' in response.content.decode() and "优惠券被批量薅取" in response.content.decode()
    )
    assert not RegisterItem.objects.exists()


def test_an_expiry_is_kept_to_the_end_of_its_day_and_a_past_one_refused(console_as):
    client = console_as(Role.STRATEGY)
    today = timezone.localdate()
    past = client.post(
        "/console/risk/lists/",
        {"kind": "ip", "value": "198.51.100.0/24", "verdict": "block", "note": "代理", "expires_on": str(today - timedelta(days=1))},
    )  # fmt: skip
    assert past.status_code == 422 and not ListEntry.objects.exists()
    client.post(
        "/console/risk/lists/",
        {"kind": "ip", "value": "198.51.100.0/24", "verdict": "block", "note": "代理", "expires_on": str(today)},
    )  # fmt: skip
    expires = timezone.localtime(ListEntry.objects.get().expires_at)
    assert expires.date() == today + timedelta(days=1) and (expires.hour, expires.minute) == (0, 0)


def test_an_unknown_version_is_a_404_page(console_as):
    response = console_as(Role.SUPPORT).get("/console/risk/rules/999/")
    assert response.status_code == 404 and "没有规则版本 999" in response.content.decode()
