from django.core.management.base import BaseCommand

from yunying.campaigns.seats import GRACE_SECONDS, seats_repair_all


class Command(BaseCommand):
    help = (
        "Rebuild the seat counters from the database (the source of truth): Redis state for every "
        "active campaign when REDIS_URL is set, and the campaign rows' derived seat counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace",
            type=int,
            default=GRACE_SECONDS,
            help="seconds an uncommitted admission counts as in flight (0 when no app process is running)",
        )

    def handle(self, *args, grace, **options):
        corrected, results = seats_repair_all(grace_seconds=grace)
        self.stdout.write(f"{corrected} campaign counter(s) corrected in the database")
        for r in results:
            self.stdout.write(
                f"campaign {r.campaign_id}: confirmed={r.confirmed} seats={r.seats} "
                f"in_flight={r.in_flight} dropped={r.dropped}"
            )
