"""`yunying demo` and the admin pages it points operators to."""

import io
import json
import re
import stat

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Campaign, CampaignStatus, CampaignType, Signup, SignupEvent
from yunying.core.apikeys import apikey_authenticate, apikey_revoke
from yunying.core.models import ApiKey
from yunying.core.permissions import Role
from yunying.members.models import Member
from yunying.members.services import Profile


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def printed_key(output: str) -> str:
    return re.search(r"^API key \(strategy\): (yy_\S+)$", output, re.M).group(1)


def printed_password(output: str) -> str:
    return re.search(r"^  operator / (\S+) / strategy", output, re.M).group(1)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """The kept credentials go to this test's own var/."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def counts() -> dict[str, int]:
    from yunying.core.models import ApiKey, AuditEntry
    from yunying.notify.models import OutboxMessage

    models = [Campaign, Signup, SignupEvent, Member, ApiKey, AuditEntry, OutboxMessage]
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_demo_loads_every_status_and_type_once_with_consistent_seats():
    # given
    first = run_demo()
    before = counts()
    # when: `make run` again
    second = run_demo()
    # then: the same credentials, and nothing added
    assert counts() == before
    assert printed_key(second) == printed_key(first)
    assert printed_password(second) == printed_password(first)
    assert authenticate(username="operator", password=printed_password(second)) is not None
    assert set(Campaign.objects.values_list("status", flat=True)) == set(CampaignStatus.values)
    assert set(Campaign.objects.values_list("type", flat=True)) == set(CampaignType.values)
    assert 300 <= Member.objects.count() <= 400
    for campaign in Campaign.objects.all():
        assert campaign.seats_taken == campaign.signups.filter(status="confirmed").count(), campaign.title
    assert SignupEvent.objects.filter(to_status="confirmed", note="promoted").exists()
    assert "Demo data loaded" in first
    assert "Demo data already loaded" in second


@pytest.mark.django_db
def test_demo_keeps_its_credentials_in_a_private_file_and_prints_them_again(var_dir):
    # given
    first = run_demo("--no-data")
    # when
    second = run_demo("--no-data")
    # then
    path = var_dir / "demo-credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = json.loads(path.read_text())
    assert kept["api_key"] == printed_key(first)
    assert kept["logins"]["operator"] == printed_password(first)
    assert set(kept["logins"]) == {"operator", "execution", "support", "auditor"}
    assert (printed_key(second), printed_password(second)) == (printed_key(first), printed_password(first))
    assert apikey_authenticate(printed_key(second)) is not None


@pytest.mark.django_db
def test_demo_loads_nothing_into_a_database_in_use():
    # given: a system with its own data, no demo campaigns
    sign_up(CampaignFactory(status="published"), mobile(1))
    before = counts()
    # when
    output = run_demo()
    # then
    assert "demo data not loaded" in output
    after = counts()
    assert {k: v for k, v in after.items() if k not in ("ApiKey", "AuditEntry")} == {
        k: v for k, v in before.items() if k not in ("ApiKey", "AuditEntry")
    }


@pytest.mark.django_db
def test_a_password_the_operator_changed_is_left_alone_and_a_revoked_key_replaced():
    # given
    first = run_demo("--no-data")
    user = get_user_model().objects.get(username="operator")
    user.set_password("my-own-passphrase")
    user.save()
    apikey_revoke(key=ApiKey.objects.get(prefix=printed_key(first).split("_")[1]))
    # when
    second = run_demo("--no-data")
    # then
    assert "  operator / (changed since" in second
    assert authenticate(username="operator", password="my-own-passphrase") is not None
    assert printed_key(second) != printed_key(first)
    assert apikey_authenticate(printed_key(second)) is not None


@pytest.mark.django_db
def test_demo_renew_prints_a_working_api_key_and_operator_login_and_revokes_the_old(monkeypatch):
    # given
    monkeypatch.delenv("YUNYING_HOST", raising=False)
    monkeypatch.setenv("YUNYING_PORT", "8765")
    first = run_demo("--no-data")
    # when
    second = run_demo("--no-data", "--renew")
    # then
    actor = apikey_authenticate(printed_key(second))
    assert actor is not None and actor.role == Role.STRATEGY
    assert apikey_authenticate(printed_key(first)) is None  # the previous demo key is revoked
    user = authenticate(username="operator", password=printed_password(second))
    assert user is not None and user.is_superuser
    assert authenticate(username="operator", password=printed_password(first)) is None
    assert "API docs:     http://127.0.0.1:8765/api/v1/docs" in second
    assert "Console:      http://127.0.0.1:8765/console/" in second
    for username in ("execution", "support", "auditor"):
        password = re.search(rf"^  {username} / (\S+) / {username}", second, re.M).group(1)
        assert authenticate(username=username, password=password).groups.get().name == username
    assert Campaign.objects.count() == 0


@pytest.mark.django_db
def test_admin_pages_show_members_masked(admin_client, open_campaign):
    # given
    signup = sign_up(open_campaign, mobile(7), profile=Profile(name="张小明"))
    pages = [
        "/admin/members/member/",
        f"/admin/members/member/{signup.member_id}/change/",
        "/admin/campaigns/signup/",
        f"/admin/campaigns/signup/{signup.pk}/change/",
    ]
    for url in pages:
        # when
        response = admin_client.get(url)
        # then
        body = response.content.decode()
        assert response.status_code == 200, url
        assert "13800000007" not in body, url
        assert "张小明" not in body, url
        assert "138****0007" in body, url
        assert "张**" in body, url


@pytest.mark.django_db
def test_admin_refuses_changes_to_members_and_signups(admin_client, open_campaign):
    # given
    signup = sign_up(open_campaign, mobile(8))
    # when
    add = admin_client.get("/admin/campaigns/signup/add/")
    change = admin_client.post(f"/admin/members/member/{signup.member_id}/change/", {"gender": "male"})
    delete = admin_client.get(f"/admin/campaigns/signup/{signup.pk}/delete/")
    # then
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403


@pytest.mark.django_db
def test_demo_members_have_tags_and_orders_for_the_360_page():
    from yunying.commerce.models import Order, OrderEvent
    from yunying.members.models import MemberTag, Tag

    run_demo()
    assert set(Tag.objects.values_list("name", flat=True)) >= {"VIP", "咖啡爱好者"}
    assert MemberTag.objects.count() > 10 and Order.objects.count() > 50
    assert OrderEvent.objects.filter(kind="refund").exists()
    assert all(o.total_fen == sum(line.paid_fen for line in o.lines.all()) for o in Order.objects.all()[:50])
    # a third were priced with a quote: the 满减 and member prices were redeemed and charged to budgets
    from yunying.promotions.models import Budget, Coupon, Redemption

    assert Redemption.objects.exclude(offer_key="").count() > 5
    assert Budget.objects.filter(spent_fen__gt=0).exists()
    assert Coupon.objects.filter(source="event").exists()  # the new-member coupon on registration


@pytest.mark.django_db
def test_the_demo_has_a_check_in_table_and_a_newbie_task_list():
    from yunying.loyalty.models import CheckinRule, TaskCompletion, TaskList

    run_demo()
    assert CheckinRule.objects.get().rewards[-1] == 30
    assert TaskList.objects.get().name == "新人任务"
    assert TaskCompletion.objects.exists()  # demo sign-ups and orders completed tasks
