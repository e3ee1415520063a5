"""points_reconcile reports drift (exit 1) and --rebuild fixes it, audited; ledger_rebuild restores the
figures the ledger implies."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yunying.core.models import AuditEntry
from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import ledger_rebuild, ledger_reconcile, points_earn, points_spend
from yunying.loyalty.models import PointAccount, PointLot, PostingSource
from yunying.members.models import Member

pytestmark = pytest.mark.django_db


def _setup():
    member = Member.objects.create(external_id="rec-1")
    points_earn(
        member_id=member.pk, points=300, key="e", source=PostingSource.MANUAL, actor=SYSTEM, expires_at=None
    )
    points_spend(member_id=member.pk, points=120, key="s", source=PostingSource.REDEEM, actor=SYSTEM)
    return member


def test_rebuild_restores_the_figures_the_ledger_implies():
    member = _setup()
    PointAccount.objects.filter(member=member).update(balance=999, debt=5)
    PointLot.objects.filter(account__member=member).update(remaining=1)
    assert ledger_reconcile() != []
    ledger_rebuild()
    assert ledger_reconcile() == []
    assert PointAccount.objects.get(member=member).balance == 180


def test_command_exits_1_on_drift_and_rebuild_fixes_it(capsys):
    member = _setup()
    call_command("points_reconcile")
    PointAccount.objects.filter(member=member).update(balance=7)
    with pytest.raises(CommandError):
        call_command("points_reconcile")
    call_command("points_reconcile", "--rebuild")
    assert ledger_reconcile() == []
    assert PointAccount.objects.get(member=member).balance == 180
    assert AuditEntry.objects.filter(action="loyalty.points_rebuild").count() == 1


def test_hourly_job_raises_an_alert_on_drift_once_per_hour():
    from django.core.cache import cache
    from django.utils import timezone

    from yunying.core.models import Alert
    from yunying.core.registry import periodic_jobs

    cache.clear()
    member = _setup()
    PointAccount.objects.filter(member=member).update(balance=7)
    job = periodic_jobs()["loyalty.points_reconcile"]
    now = timezone.now()
    assert job(now) == {"checked": 1, "drifts": 2}
    assert job(now) == {}
    assert Alert.objects.filter(code="loyalty.points_drift").count() == 1
