"""What the console keeps for its operators: their saved list filters (a convenience, no business data)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedFilter(models.Model):
    """A named campaign-list filter of one operator: the query string it applies, nothing else."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    section = models.CharField(max_length=30, default="campaigns")
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "section", "name"], name="saved_filter_unique_name")
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
