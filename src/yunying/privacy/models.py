"""The privacy app's tables: data-subject requests, export approvals, breach incidents."""

from django.db import models


class KeyRotation(models.Model):
    """Progress of re-encrypting one sealed column (core.registry.SealedColumn) under the active PII
    key (S1). `cursor` is the last primary key done: a crash or a restart continues after it. A new
    active key (`key_id`) starts the column over."""

    column = models.CharField(max_length=120, unique=True)  # SealedColumn.label
    key_id = models.CharField(max_length=64)  # the active key this pass re-encrypts to
    cursor = models.BigIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_resealed = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.column} → {self.key_id}"

    @property
    def percent(self) -> int:
        if self.finished_at is not None or not self.rows_total:
            return 100 if self.finished_at is not None else 0
        return min(99, self.rows_done * 100 // self.rows_total)
