from django.core.management.base import BaseCommand, CommandError

from yunying.core import crypto
from yunying.privacy.keys import (
    BATCH,
    ColumnKeys,
    key_usage,
    keys_in_use,
    rotation_run,
    rotation_superseded_by,
)


class Command(BaseCommand):
    help = (
        "PII key rotation. `status`: per sealed column and key id, how many values each key still seals "
        "and the share under the active key (a key that seals nothing can leave YUNYING_PII_KEYS); exits "
        "non-zero when stored values name a key the ring lacks. `rotate`: re-encrypt every sealed value "
        "not under the active key (the first of YUNYING_PII_KEYS) now, continuing where the worker or an "
        "interrupted run stopped and re-scanning columns already finished (values written under an old "
        "key by processes not yet restarted); exits non-zero when values do not decrypt, and refuses with a "
        "ring whose active key is older than the one the rotation moved to. Blind indexes: after changing YUNYING_BLIND_INDEX_KEY run "
        "reindex-pii."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "rotate"])
        parser.add_argument("--batch", type=int, default=BATCH, help="rows per transaction")
        parser.add_argument("--max-batches", type=int, default=None, help="stop after this many batches")

    def handle(self, *args, action, batch, max_batches, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        ring = crypto.ring_key_ids()
        newer = rotation_superseded_by(ring[0])
        if action == "rotate" and newer:
            raise CommandError(self._stale(ring[0], newer))
        if action == "rotate":
            # Values under a key the ring lacks cannot be opened: refuse before touching anything
            # (each would raise and alert pii.ciphertext_invalid mid-run).
            self._refuse_missing(keys_in_use(key_usage()), ring)
            done = rotation_run(batch=batch, max_batches=max_batches, recheck=True)
            for label, rows in done.items():
                self.stdout.write(f"{label}: {rows} rows")
        usage = key_usage()
        active = ring[0]
        self.stdout.write(f"active key: {active}; ring: {', '.join(ring)}")
        if newer:
            self.stdout.write(self.style.WARNING(self._stale(active, newer)))
        for column in usage:
            self.stdout.write(f"{column.column}: {self._column_state(column, active)}")
        in_use = keys_in_use(usage)
        for key_id in ring[1:]:
            if not in_use.get(key_id):
                self.stdout.write(f"key {key_id} seals nothing: it can be removed from the ring")
            else:
                self.stdout.write(
                    self.style.WARNING(
                        f"key {key_id} still seals {in_use[key_id]} values: keep it in the ring "
                        "(`yunying pii-keys rotate` re-encrypts them)"
                    )
                )
        self._refuse_missing(in_use, ring)
        failed = sum(c.progress.rows_failed for c in usage if c.progress and c.progress.key_id == active)
        if action == "rotate" and failed:
            raise CommandError(
                f"{failed} stored values do not decrypt and stay under their old key (see the columns "
                "above and the alert pii.ciphertext_invalid): restore them, or their key, and run rotate again"
            )

    def _stale(self, active: str, newer: str) -> str:
        return (
            f"this ring's active key {active} is older than {newer}, to which the rotation already moved: "
            "this process runs with an old YUNYING_PII_KEYS and leaves the rotation alone (an active key "
            "never goes back to an older one: to leave a key, rotate to a new one)"
        )

    def _column_state(self, column: ColumnKeys, active: str) -> str:
        keys = " ".join(f"{key}={count}" for key, count in sorted(column.by_key.items())) or "(empty)"
        under = column.by_key.get(active, 0)
        share = f"{column.percent_under(active)}% ({under}/{column.total}) under {active}"
        progress = column.progress
        if under == column.total:
            state = "nothing to re-encrypt"
        elif progress is None or progress.key_id != active:
            state = "not started"
        elif progress.finished_at is not None:
            state = (
                f"pass finished, {column.total - under} values written since: run `yunying pii-keys rotate`"
            )
        else:
            state = f"pass {progress.percent}% ({progress.rows_done}/{progress.rows_total})"
        if progress is not None and progress.key_id == active and progress.rows_failed:
            state += (
                f"; {progress.rows_failed} values do not decrypt (last: row {progress.failed_pk}, "
                f"{progress.failed_error}), left under their old key"
            )
        return f"{keys}; {share}; {state}"

    def _refuse_missing(self, in_use: dict[str, int], ring: list[str]) -> None:
        missing = sorted(set(in_use) - set(ring))
        if not missing:
            return
        for key_id in missing:
            self.stderr.write(
                self.style.ERROR(
                    f"ERROR: key {key_id} seals {in_use[key_id]} stored values but is not in the ring: "
                    "they cannot be read"
                )
            )
        raise CommandError(
            f"the key ring lacks {', '.join(missing)}, which still seal stored values: put "
            f"{'them' if len(missing) > 1 else 'it'} back in YUNYING_PII_KEYS (after the active key)"
        )
