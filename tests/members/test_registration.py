"""Registration (M1, M4): the first sign-in of a new phone registers the member with channel, UTM and
inviter; acquisition facts are never overwritten; self-invites and unknown codes are ignored."""

from __future__ import annotations

import pytest

from tests.members.factories import MemberFactory, mobile
from yunying.members.models import INVITE_ALPHABET, INVITE_CODE_LENGTH, Member
from yunying.members.services import Acquisition, invite_code_normalize, inviter_find, member_resolve
from yunying.members.signin import member_signin, signin_code_send

pytestmark = pytest.mark.django_db


class Outbox:
    def __init__(self):
        self.code = ""

    def __call__(self, e164: str, code: str) -> None:
        self.code = code


def _sign_in(phone: str, acquisition: Acquisition | None = None) -> Member:
    outbox = Outbox()
    signin_code_send(phone=phone, client_ip=None, deliver=outbox)
    return member_signin(phone=phone, code=outbox.code, acquisition=acquisition)


def _sign_in_again(phone: str, acquisition: Acquisition | None = None) -> Member:
    """A later sign-in of the same phone: what member_signin does once the code is verified (the send
    limits allow one code a minute per phone)."""
    return member_resolve(phone=phone, external_id=None, channel="h5", acquisition=acquisition)


def test_the_first_sign_in_registers_the_member_with_channel_utm_and_inviter():
    # given
    inviter = MemberFactory(phone=mobile(1))
    # when
    member = _sign_in(
        "13900139000",
        Acquisition(
            utm_source="wechat", utm_medium="moments", utm_campaign="spring", invite_code=inviter.invite_code
        ),
    )
    # then
    member.refresh_from_db()
    assert (member.source_channel, member.utm_source, member.utm_medium, member.utm_campaign) == (
        "h5", "wechat", "moments", "spring",
    )  # fmt: skip
    assert member.invited_by_id == inviter.pk
    assert list(inviter.invitees.all()) == [member]


def test_a_later_sign_in_never_overwrites_acquisition_facts():
    first_inviter, other = MemberFactory(phone=mobile(1)), MemberFactory(phone=mobile(2))
    member = _sign_in("13900139000", Acquisition(utm_source="wechat", invite_code=first_inviter.invite_code))
    again = _sign_in_again(
        "13900139000", Acquisition(utm_source="douyin", utm_campaign="x", invite_code=other.invite_code)
    )
    again.refresh_from_db()
    assert again.pk == member.pk
    assert (again.utm_source, again.utm_campaign, again.invited_by_id) == ("wechat", "", first_inviter.pk)


def test_a_member_created_by_a_sign_up_keeps_its_channel_when_it_later_signs_in():
    member = member_resolve(phone="+8613900139000", external_id=None, channel="api")
    _sign_in("13900139000", Acquisition(utm_source="wechat"))
    member.refresh_from_db()
    assert (member.source_channel, member.utm_source) == ("api", "")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("", None),
        ("NOSUCH22", None),
        ("toolong-code-123", None),
        ("O0I1L0O1", None),  # letters the alphabet leaves out: cannot be a code
        ("<script>", None),
    ],
    ids=["empty", "unknown", "too-long", "ambiguous-letters", "markup"],
)
def test_unknown_or_malformed_invite_codes_are_ignored_without_an_error(code, expected):
    member = _sign_in("13900139000", Acquisition(invite_code=code))
    member.refresh_from_db()
    assert member.invited_by_id is expected


def test_a_member_following_their_own_invite_link_is_not_their_own_inviter():
    member = _sign_in("13900139000")
    again = _sign_in_again("13900139000", Acquisition(invite_code=member.invite_code))
    again.refresh_from_db()
    assert again.invited_by_id is None


def test_invite_codes_are_found_however_they_are_typed():
    inviter = MemberFactory(phone=mobile(1))
    code = inviter.invite_code
    typed = f" {code[:4].lower()}-{code[4:]} "
    assert invite_code_normalize(typed) == code
    assert inviter_find(typed) == inviter


def test_every_member_gets_a_stable_unique_invite_code():
    members = [MemberFactory(phone=mobile(n)) for n in range(1, 30)]
    codes = [m.invite_code for m in members]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == INVITE_CODE_LENGTH and set(c) <= set(INVITE_ALPHABET) for c in codes)
    member = members[0]
    member.refresh_from_db()
    assert member.invite_code == codes[0]


def test_utm_values_are_trimmed_to_the_column_and_stripped_of_control_characters():
    member = _sign_in("13900139000", Acquisition(utm_source="a\x00b" + "x" * 200))
    member.refresh_from_db()
    assert member.utm_source == "ab" + "x" * 62
