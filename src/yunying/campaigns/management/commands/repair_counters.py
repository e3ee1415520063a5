from django.core.management.base import BaseCommand

from yunying.campaigns.seats import seats_sync


class Command(BaseCommand):
    help = (
        "Check every campaign's seat counter against its confirmed sign-ups and correct any that "
        "differ. They move in one transaction, so a difference means someone edited rows by hand."
    )

    def handle(self, *args, **options):
        corrected = seats_sync()
        self.stdout.write(f"{corrected} campaign counter(s) corrected in the database")
