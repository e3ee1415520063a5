"""The personal data members holds about a member, as the member's rights see it (PIPL arts. 44-47):
what the self-service export returns, and what an erasure clears. Registered as
core.registry.PersonalDataHolding in MembersConfig.ready(); the privacy app calls these inside the
erasure's transaction. Only this app changes these tables."""

from __future__ import annotations

from django.utils import timezone

from yunying.members.identity import identity_forget
from yunying.members.models import (
    ERASED_PREFIX,
    ConsentEvent,
    ConsentRecord,
    Member,
    MemberTag,
    ProfileAnswer,
)
from yunying.members.profiling import profile_attributes
from yunying.members.regions import province_of
from yunying.members.services import member_email, member_name, member_phone


def identity_export(member_id: int) -> dict:
    member = Member.objects.only("identity_check", "identity_checked_at").get(pk=member_id)
    checked = member.identity_checked_at
    return {"result": member.identity_check or None, "checked_at": checked.isoformat() if checked else None}


def identity_erase(member_id: int) -> dict[str, int]:
    return {"identity_checks": identity_forget(member_id)}


def profile_export(member_id: int) -> dict:
    member = Member.objects.get(pk=member_id)
    return {
        "phone": member_phone(member),
        "name": member_name(member),
        "email": member_email(member),
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "gender": member.gender,
        "region_code": member.region_code,
        "language": member.language,
        "source_channel": member.source_channel,
        "utm": {"source": member.utm_source, "medium": member.utm_medium, "campaign": member.utm_campaign},
        "invite_code": member.invite_code,
        "invited_by": member.invited_by_id,
        "registered_at": member.created_at.isoformat(),
    }


def profile_erase(member_id: int) -> dict[str, int]:
    """Clear the member's identity irreversibly: ciphertexts and the phone's blind index go, so the
    phone finds nobody and can register anew; the row stays (orders, sign-ups and ledgers point at
    it) as an anonymous fact. The external id becomes a marker no storefront id can take.

    What campaign statistics count by (gender, age band, province) is kept generalised, so they stay
    right: the gender, the province instead of the district, the birth month instead of the day (an
    age band can move only for a birthday within that month)."""
    member = Member.objects.filter(pk=member_id).exclude(external_id__startswith=ERASED_PREFIX).first()
    if member is None:
        return {"members": 0}
    born = member.birth_date.replace(day=1) if member.birth_date else None
    region = province_of(member.region_code) if member.region_code else ""
    changed = Member.objects.filter(pk=member.pk).update(
        phone_encrypted="", phone_index=None, name_encrypted="", email_encrypted="",
        external_id=f"{ERASED_PREFIX}{member_id}", birth_date=born, region_code=region,
        source_channel="", utm_source="", utm_medium="", utm_campaign="", language="zh-hans",
        identity_index="", identity_check="", identity_checked_at=None,  # the real-name check (identity)
    )  # fmt: skip
    return {"members": changed}


def member_is_erased(member: Member) -> bool:
    return (member.external_id or "").startswith(ERASED_PREFIX)


def members_live():
    """Members not erased, as a queryset (for a subquery: who may still be messaged or given anything)."""
    return Member.objects.exclude(external_id__startswith=ERASED_PREFIX)


def consent_export(member_id: int) -> dict:
    return {
        "records": [
            {"policy_version": r.policy_version, "marketing": r.marketing, "sensitive": r.sensitive,
             "accepted_at": r.accepted_at.isoformat()}
            for r in ConsentRecord.objects.filter(member_id=member_id).order_by("id")
        ],
        "events": [
            {"purpose": e.purpose, "granted": e.granted, "policy_version": e.policy_version,
             "channel": e.channel, "at": e.at.isoformat()}
            for e in ConsentEvent.objects.filter(member_id=member_id).order_by("id")
        ],
    }  # fmt: skip


def answers_export(member_id: int) -> dict:
    member = Member.objects.get(pk=member_id)
    declined = list(
        ProfileAnswer.objects.filter(member_id=member_id, declined=True).values_list("target", flat=True)
    )
    return {"attributes": profile_attributes(member), "declined": declined}


def answers_erase(member_id: int) -> dict[str, int]:
    deleted, _per_model = ProfileAnswer.objects.filter(member_id=member_id).delete()
    return {"profile_answers": deleted}


def tags_export(member_id: int) -> list[dict]:
    return [
        {"tag": name, "added_at": at.isoformat()}
        for name, at in MemberTag.objects.filter(member_id=member_id)
        .order_by("id")
        .values_list("tag__name", "added_at")
    ]


def tags_erase(member_id: int) -> dict[str, int]:
    deleted, _per_model = MemberTag.objects.filter(member_id=member_id).delete()
    return {"member_tags": deleted}


def erased_now() -> str:
    return timezone.now().isoformat()


def holdings_register() -> None:
    """Declare what members holds (MembersConfig.ready)."""
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="members.profile", label=_("Your phone number, name, e-mail, birth date, gender and region"),
        purpose=_("To identify you when you sign in, and to contact you about what you signed up for"),
        retention=_("As long as you are a member; erased when you delete your account (only gender, province and birth month stay, for statistics)"),
        shared_with=(_("SMS provider"), _("E-mail provider")),  # one name per party: the 共享清单 groups by it
        export=profile_export, erase=profile_erase,
    ))  # fmt: skip
    personal_data_register(PersonalDataHolding(
        key="members.identity", label=_("The result of your real-name check (never your identity number)"),
        purpose=_("To confirm who you are where a campaign or the law needs it, only with your separate consent"),
        retention=_("Until you withdraw your consent for sensitive information, or delete your account"),
        export=identity_export, erase=identity_erase,
    ))  # fmt: skip
    personal_data_register(PersonalDataHolding(
        key="members.consent", label=_("Your consent choices and their history"),
        purpose=_("To prove what you agreed to and to respect each choice you made"),
        retention=_("Kept as the record of your consent, also after you delete your account (without your contact details)"),
        export=consent_export, erase=None,
    ))  # fmt: skip
    personal_data_register(PersonalDataHolding(
        key="members.answers", label=_("Your answers to our short questionnaires"),
        purpose=_("The purpose each question states when it is asked"),
        retention=_("As long as you are a member; deleted when you delete your account"),
        export=answers_export, erase=answers_erase,
    ))  # fmt: skip
    personal_data_register(PersonalDataHolding(
        key="members.tags", label=_("Labels our team put on your account"),
        purpose=_("To group members for offers and service"),
        retention=_("Until the label is taken off, or you delete your account"),
        export=tags_export, erase=tags_erase,
    ))  # fmt: skip
