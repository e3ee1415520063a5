from django.core.management.base import BaseCommand, CommandError

from yunying.core import crypto
from yunying.privacy.keys import BATCH, key_usage, keys_in_use, rotation_run


class Command(BaseCommand):
    help = (
        "PII key rotation. `status`: per sealed column and key id, how many values each key still seals "
        "(a key that seals nothing can leave YUNYING_PII_KEYS). `rotate`: re-encrypt every sealed value "
        "under the active key (the first of YUNYING_PII_KEYS) now, continuing where the worker or an "
        "interrupted run stopped. Blind indexes: after changing YUNYING_BLIND_INDEX_KEY run reindex-pii."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "rotate"])
        parser.add_argument("--batch", type=int, default=BATCH, help="rows per transaction")
        parser.add_argument("--max-batches", type=int, default=None, help="stop after this many batches")

    def handle(self, *args, action, batch, max_batches, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        if action == "rotate":
            done = rotation_run(batch=batch, max_batches=max_batches)
            for label, rows in done.items():
                self.stdout.write(f"{label}: {rows} rows")
        ring = crypto.ring_key_ids()
        usage = key_usage()
        self.stdout.write(f"active key: {ring[0]}; ring: {', '.join(ring)}")
        for column in usage:
            keys = " ".join(f"{key}={count}" for key, count in sorted(column.by_key.items())) or "(empty)"
            progress = column.progress
            state = (
                "not started"
                if progress is None
                else f"{progress.percent}% ({progress.rows_done}/{progress.rows_total}) to {progress.key_id}"
            )
            self.stdout.write(f"{column.column}: {keys}; {state}")
        in_use = keys_in_use(usage)
        for key_id in ring[1:]:
            if not in_use.get(key_id):
                self.stdout.write(f"key {key_id} seals nothing: it can be removed from the ring")
        for key_id in sorted(set(in_use) - set(ring)):
            self.stdout.write(
                self.style.ERROR(f"key {key_id} seals {in_use[key_id]} values but is not in the ring")
            )
