"""What analytics derives about a member (RFM scores, segment memberships), for the member's export
(PIPL art. 45). It is computed from the member's orders and profile; after an erasure it describes an
anonymous account and is kept so reports stay right."""

from __future__ import annotations

from yunying.analytics.models import MemberRfm, SegmentMember


def profile_export(member_id: int) -> dict:
    rfm = MemberRfm.objects.filter(member_id=member_id).first()
    return {
        "rfm": None if rfm is None else {
            "recency_days": rfm.recency_days, "frequency": rfm.frequency, "monetary_fen": rfm.monetary_fen,
            "lifecycle": rfm.lifecycle,
        },
        "segments": list(SegmentMember.objects.filter(member_id=member_id).values_list("segment__name", flat=True)),
    }  # fmt: skip


def holdings_register() -> None:
    """Declare what analytics holds (AnalyticsConfig.ready)."""
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="analytics.profile", label=_("How often and how recently you buy, and the member groups you are in"),
        purpose=_("Statistics, and offers for groups of members if you agreed to analytics"),
        retention=_("Recomputed every day from your orders; kept as anonymous figures after you delete your account"),
        export=profile_export, erase=None,
    ))  # fmt: skip
