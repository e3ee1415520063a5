from django.core.management.base import BaseCommand

from yunying.campaigns.services.reseal import campaigns_reseal, signups_reseal
from yunying.members.services import members_reseal


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored personal value under the active PII key (the first of YUNYING_PII_KEYS), "
        "bound to its row, and recompute the blind indexes under YUNYING_BLIND_INDEX_KEY: run after "
        "rotating either key, and once after upgrading from v1 ciphertexts. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="rows per transaction")

    def handle(self, *args, batch, **options):
        members = members_reseal(batch=batch)
        signups = signups_reseal(batch=batch)
        campaigns = campaigns_reseal(batch=batch)
        self.stdout.write(f"resealed: members={members} signups={signups} campaigns={campaigns}")
