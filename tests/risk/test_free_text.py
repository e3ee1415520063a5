"""Free text a stranger types (a member's note asking for a review, an operator's note) is stored
without NUL — PostgreSQL refuses NUL in text, which was a 500 — trimmed and bounded, at the service,
whichever page or endpoint it came through. And the list look-up reads only entries that can match."""

from __future__ import annotations

import pytest

from yunying.core.permissions import SYSTEM
from yunying.risk.models import Case, ListEntry
from yunying.risk.services import case_ask, case_decide, list_entry_add, risk_assess
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db


def _decision(member: str = "m1", *, held: bool = True) -> int:
    """A sign-up attempt: from a script on a cloud address (held for review), or a plain one."""
    return risk_assess(
        RiskInput(entry="signup.create", subject_type="signup", subject_ref="su_1", member_ref=member,
                  ip="47.92.1.1" if held else None, user_agent="python-requests/2.31" if held else "")
    ).decision_id  # fmt: skip


def test_a_members_note_with_nul_is_stored_without_it():
    # given / when
    case = case_ask(
        decision_id=_decision(held=False), member_ref="m1", note="  我是真人\x00，请复核 " + "长" * 600
    )
    # then
    stored = Case.objects.get(pk=case.pk).member_note
    assert "\x00" not in stored and stored.startswith("我是真人，请复核") and len(stored) == 500


def test_an_operators_notes_with_nul_are_stored_without_it():
    case = Case.objects.get(decision_id=_decision())
    case_decide(case_id=case.pk, approve=False, note="脚本\x00批量", actor=SYSTEM)
    assert Case.objects.get(pk=case.pk).note == "脚本批量"
    entry = list_entry_add(
        kind="ip", value="47.92.0.0/16\x00", verdict="block", note="机房\x00段", actor=SYSTEM
    )
    assert (entry.value, entry.note) == ("47.92.0.0/16", "机房段")


def test_a_phone_entry_decides_among_many_unrelated_ones():
    # given: a thousand other phones on the allow list and this one on the block list
    for n in range(1000):
        ListEntry.objects.create(kind="phone", value=f"other{n}", verdict="allow", note="x", created_by="t")
    list_entry_add(kind="phone", value="13912345678", verdict="block", note="接码号", actor=SYSTEM)
    # when
    verdict = risk_assess(
        RiskInput(
            entry="signup.create",
            subject_type="signup",
            subject_ref="su_2",
            member_ref="m2",
            phone="13912345678",
        )
    )
    # then
    assert verdict.action == "block" and verdict.reasons[0]["rule"] == "list.block"


@pytest.mark.parametrize(
    "written",
    ["我的手机 13912345678，请回电", "call +86 139-1234-5678", "邮箱 wang.li@example.com 联系我"],
    ids=["phone", "phone-international", "e-mail"],
)
def test_a_phone_or_e_mail_in_free_text_from_outside_is_never_stored_in_clear(written):
    # given a member's note asking for a review, and a complaint customer service reports, naming them
    from yunying.risk.models import Complaint
    from yunying.risk.warnings import complaint_record

    case = case_ask(decision_id=_decision(held=False), member_ref="m1", note=written)
    complaint = complaint_record(category="fraud", note=written, actor=SYSTEM)
    # then every reviewer (support included) reads the note without them, and no dump holds them
    for stored in (Case.objects.get(pk=case.pk).member_note, Complaint.objects.get(pk=complaint.pk).note):
        assert "13912345678" not in stored.replace("-", "").replace(" ", "").replace("+86", "")
        assert "wang.li@example.com" not in stored
        assert "[phone]" in stored or "[email]" in stored
