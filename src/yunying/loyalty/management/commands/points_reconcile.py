"""yunying points_reconcile [--rebuild]: print where stored point figures drift from the ledger; exit 1
on drift. --rebuild recomputes the derived figures (after printing them) and audits the repair."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from yunying.core.audit import audit_record
from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import ledger_rebuild, ledger_reconcile


class Command(BaseCommand):
    help = "Check the points ledger's derived figures; --rebuild fixes them."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recompute the drifted figures")

    def handle(self, *args, rebuild=False, **options):
        drifts = ledger_reconcile()
        if not drifts:
            self.stdout.write("No drift.")
            return
        self.stdout.write(f"{'member':>10}  {'field':<16} {'stored':>12} {'ledger':>12}")
        for d in drifts:
            self.stdout.write(f"{d.member_id:>10}  {d.field:<16} {d.stored:>12} {d.computed:>12}")
        if not rebuild:
            raise CommandError(f"{len(drifts)} drifted figure(s); run with --rebuild to fix", returncode=1)
        with transaction.atomic():
            fixed = ledger_rebuild()
            audit_record(
                actor=SYSTEM,
                action="loyalty.points_rebuild",
                object_type="point_account",
                object_id=None,
                before={"drifts": [d.__dict__ for d in fixed]},
                after={"drifts": []},
            )
        self.stdout.write(f"Rebuilt {len(fixed)} figure(s).")
