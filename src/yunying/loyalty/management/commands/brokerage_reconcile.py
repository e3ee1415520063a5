from django.core.management.base import BaseCommand, CommandError

from yunying.core.alerts import alert_raise
from yunying.loyalty.brokerage import brokerage_reconcile


class Command(BaseCommand):
    help = (
        "Check the brokerage ledger: every promoter's balance against the sum of its entries, every "
        "statement's total against its entries, every line's commission between 0 and the rule on what "
        "was paid. Any drift is listed, raised as the alert brokerage.drift, and the exit status is 1."
    )

    def handle(self, *args, **options):
        drifts = brokerage_reconcile()
        if not drifts:
            self.stdout.write("brokerage ledger: no drift")
            return
        for drift in drifts:
            self.stdout.write(
                f"promoter {drift.promoter_id} {drift.field}: stored {drift.stored}, ledger {drift.computed}"
            )
        alert_raise(
            "brokerage.drift", count=len(drifts), promoters=sorted({d.promoter_id for d in drifts})[:20]
        )
        raise CommandError(f"{len(drifts)} drift(s) in the brokerage ledger")
