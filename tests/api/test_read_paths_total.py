"""Every read path is total over whatever the tables hold (issue 8 §2): members and sign-ups with odd
stored values — a birth date of 1800 or 2030, an unknown region or gender, control characters in a
name, a number phonenumbers cannot parse, answers that do not fit their question — never make a
statistic, list, export, presenter or admin page answer 500.

The rows are written directly, as data from before today's validation (or from a migration) would
be: the point is what the readers do with it, not what the services accept."""

from __future__ import annotations

import itertools
import json
from datetime import date

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.api.helpers import campaigns_url, signups_url
from tests.campaigns.factories import CampaignFactory
from tests.privacy.helpers import approval_for
from yunying.campaigns.models import Channel, Signup, SignupStatus, signup_public_id
from yunying.core import crypto
from yunying.members.models import Member, row_token_new

FORM = [
    {"key": "size", "label": "尺码", "type": "single_choice", "options": [{"value": "m", "label": "M"}]},
    {"key": "note", "label": "备注", "type": "text"},
    {"key": "tel", "label": "紧急联系人", "type": "phone"},
    {"key": "addr", "label": "地址", "type": "address"},
    {"key": "day", "label": "日期", "type": "date"},
    {"key": "ok", "label": "同意", "type": "consent"},
]

# PostgreSQL stores no NUL in text and no lone surrogate anywhere: nothing stored can hold them.
text = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
stored_member = st.fixed_dictionaries(
    {
        "birth_date": st.none() | st.dates(),
        "gender": st.sampled_from(["male", "female", "unknown", ""]) | text.map(lambda t: t[:8]),
        "region_code": st.sampled_from(["440305", "", "000000", "990000", "44030"])
        | text.map(lambda t: t[:6]),
        "name": text.map(lambda t: t[:60]),
        "phone": st.sampled_from(["+8613800138000", "+12025550123", "+8610", "+999123", "garbage", ""]),
        "external_id": st.none() | text.map(lambda t: t[:64]),
        "status": st.sampled_from(SignupStatus.values),
        "channel": st.sampled_from(Channel.values) | text.map(lambda t: t[:20]),
        "utm_source": text.map(lambda t: t[:100]),
        "answers": st.dictionaries(st.sampled_from([q["key"] for q in FORM] + ["gone"]), json_values),
    }
)
_serial = itertools.count()


def _store(campaign, values) -> None:
    n = next(_serial)
    token, public_id = row_token_new(), signup_public_id()
    member = Member.objects.create(
        row_token=token,
        phone_encrypted=crypto.encrypt(values["phone"], context="member.phone", row=token)
        if values["phone"]
        else "",
        phone_index=f"odd-{n}",  # unique and never looked up here
        external_id=f"{n}:{values['external_id']}" if values["external_id"] is not None else None,
        name_encrypted=crypto.encrypt(values["name"], context="member.name", row=token)
        if values["name"]
        else "",
        gender=values["gender"],
        birth_date=values["birth_date"],
        region_code=values["region_code"],
    )
    Signup.objects.create(
        public_id=public_id,
        campaign=campaign,
        member=member,
        status=values["status"],
        answers_encrypted=crypto.encrypt(
            json.dumps(values["answers"]), context="signup.answers", row=public_id
        ),
        channel=values["channel"],
        utm_source=values["utm_source"],
    )


def _read_everything(api: Client, admin: Client, campaign) -> None:
    signup_id = Signup.objects.filter(campaign=campaign).latest("id").pk
    reveal = {"reveal": "true", "purpose": "customer_service", "purpose_note": "核对数据"}
    # many members in clear: each through its second operator's approval (two-person rule)
    in_clear_list = {"reveal": "true", "approval": approval_for(api, campaign.pk, "list")}
    in_clear_xlsx = {"reveal": "true", "approval": approval_for(api, campaign.pk, "xlsx")}
    responses = [
        api.get(campaigns_url(campaign.pk, "stats")),
        api.get(campaigns_url(campaign.pk)),
        api.get(campaigns_url()),
        api.get(signups_url(campaign.pk)),
        api.get(signups_url(campaign.pk), in_clear_list),
        api.get(signups_url(campaign.pk, signup_id)),
        api.get(signups_url(campaign.pk, signup_id), reveal),
        api.get(signups_url(campaign.pk, action="export"), {"format": "csv"}),
        api.get(signups_url(campaign.pk, action="export"), {"format": "xlsx", **in_clear_xlsx}),
        admin.get("/admin/members/member/"),
        admin.get(f"/admin/members/member/{Signup.objects.get(pk=signup_id).member_id}/change/"),
        admin.get("/admin/campaigns/signup/"),
        admin.get(f"/admin/campaigns/signup/{signup_id}/change/"),
    ]
    for response in responses:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, (response.request["PATH_INFO"], body[:500])


@pytest.fixture
def admin(admin_client) -> Client:
    return admin_client  # the admin past its second factor (tests/conftest.py)


@pytest.mark.django_db
@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=stored_member)
def test_every_read_path_is_total_over_stored_member_values(api, admin, values):
    with transaction.atomic():  # each example on its own rows: a failure replays the same way
        # given: a campaign whose sign-up holds whatever the tables can hold
        campaign = CampaignFactory(status="published", form=FORM)
        _store(campaign, values)
        # when / then: nothing answers 500
        _read_everything(api, admin, campaign)
        transaction.set_rollback(True)


@pytest.mark.parametrize("birth_date", ["1800-01-01", "2030-01-01", "0001-01-01", "9999-12-31"])
def test_stats_count_an_impossible_birth_date_as_unknown_age(api, birth_date):
    # given
    campaign = CampaignFactory(status="published")
    _store(
        campaign,
        {"birth_date": date.fromisoformat(birth_date), "gender": "female",
         "region_code": "", "name": "张三", "phone": "+8613800138000", "external_id": None,
         "status": "confirmed", "channel": "h5", "utm_source": "", "answers": {}},
    )  # fmt: skip
    # when
    response = api.get(campaigns_url(campaign.pk, "stats"))
    # then
    assert response.status_code == 200
    assert response.json()["by_age_band"] == {"unknown": 1}
    assert response.json()["by_province"] == {"未知": 1}
