"""The key-rotation page (audit section): the strategy role and the auditor see each sealed column's
share under the active key and which key ids still seal values, read-only; roles without
pii.keys_view get 403."""

from __future__ import annotations

import pytest

from tests.members.factories import mobile
from yunying.core.permissions import Role
from yunying.core.registry import sealed_columns
from yunying.members.services import member_resolve
from yunying.privacy.keys import rotation_batch, rotation_run

URL = "/console/audit/keys/"
NEW = "k9:bmV3LXRlc3Qtb25seS1waWkta2V5LW5pbmUtbmluZQ"


def test_strategy_sees_progress_per_column_and_keys_in_use(console_as, settings):
    for n in range(1, 5):
        member_resolve(phone=mobile(n), external_id=None)
    client = console_as(Role.STRATEGY)
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    phone = next(c for c in sealed_columns() if c.label == "members.Member.phone_encrypted")
    rotation_batch(phone, batch=2)
    # when
    response = client.get(URL)
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert 'aria-label="会员手机号" aria-valuenow="50"' in page
    assert "<code>t2</code>: 2" in page and "<code>k9</code>: 2" in page
    assert "2/4 → <code>k9</code>" in page
    # t1 seals nothing: it can go; t2 still seals the other two phones
    rows = {line.split("</code>")[0]: line for line in page.split("<tr>") if "<td><code>t" in line}
    assert "可以停用" in rows["\n    <td><code>t1"] and "请保留" in rows["\n    <td><code>t2"]


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.STRATEGY, 200), (Role.AUDITOR, 200), (Role.EXECUTION, 403), (Role.SUPPORT, 403)],
)
def test_the_role_matrix(console_as, role, status):
    client = console_as(role)
    response = client.get(URL)
    assert response.status_code == status
    if status == 200:  # read-only: nothing to submit
        assert "<form" not in response.content.decode().split("<main", 1)[-1]
    assert client.post(URL).status_code in (403, 405)


@pytest.mark.parametrize(("role", "shown"), [(Role.STRATEGY, True), (Role.AUDITOR, True)])
def test_the_audit_tabs_show_the_page_to_who_may_open_it(console_as, role, shown):
    assert (URL in console_as(role).get("/console/audit/").content.decode()) is shown


def test_a_column_all_under_the_active_key_shows_nothing_to_do_not_not_started(console_as):
    # given: members written under the active key, no rotation ever ran
    for n in range(1, 3):
        member_resolve(phone=mobile(n), external_id=None)
    # when
    page = console_as(Role.STRATEGY).get(URL).content.decode()
    # then
    row = next(line for line in page.split("<tr>") if "<code>members.Member.phone_encrypted</code>" in line)
    assert 'data-state="done"' in row and "无需重新加密" in row and "未开始" not in row
    assert 'aria-valuenow="100"' in row


def test_values_written_under_an_old_key_after_the_pass_are_not_shown_as_done(console_as, settings):
    for n in range(1, 4):
        member_resolve(phone=mobile(n), external_id=None)
    old_ring = settings.PII_KEYS
    client = console_as(Role.STRATEGY)
    settings.PII_KEYS = f"{NEW},{old_ring}"
    rotation_run()
    settings.PII_KEYS = old_ring  # a process not restarted yet signs a member up
    member_resolve(phone=mobile(4), external_id=None)
    settings.PII_KEYS = f"{NEW},{old_ring}"
    # when
    page = client.get(URL).content.decode()
    # then
    row = next(line for line in page.split("<tr>") if "<code>members.Member.phone_encrypted</code>" in line)
    assert 'data-state="stragglers"' in row and 'aria-valuenow="75"' in row and "1 个值以旧密钥写入" in row


def test_columns_read_in_words_with_their_code_kept(console_as):
    """The page listed members.Member.phone_encrypted (new user review): words first, the code in
    small text for whoever runs `yunying pii-keys`."""
    page = console_as(Role.STRATEGY).get(URL, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    for words, code in [
        ("会员手机号", "members.Member.phone_encrypted"),
        ("会员姓名", "members.Member.name_encrypted"),
        ("报名表答案", "campaigns.Signup.answers_encrypted"),
    ]:
        assert f'<td>{words}<div class="small text-body-secondary"><code>{code}</code></div></td>' in page


@pytest.mark.parametrize("column", sealed_columns(), ids=lambda c: c.label)
def test_every_sealed_column_has_words_in_both_languages(column):
    from django.utils import translation

    with translation.override("zh-hans"):
        chinese = str(column.name)
    with translation.override("en"):
        english = str(column.name)
    assert english and chinese != english, f"register {column.label} with a name in words"
