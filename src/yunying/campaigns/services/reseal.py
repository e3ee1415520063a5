"""Re-encrypt the campaigns app's sealed values (sign-up answers, lottery seeds) under the active PII
key, bound to their rows: the campaigns half of `yunying reindex-pii` (members.services has the other)."""

from __future__ import annotations

from django.db import transaction

from yunying.campaigns.models import Campaign, Signup
from yunying.core import crypto

_ANSWERS = "signup.answers"
_SEED = "campaign.lottery_seed"


def _reseal_rows(model, attr: str, context: str, row_of, *, batch: int) -> int:
    changed, last = 0, 0
    while True:
        with transaction.atomic():
            rows = list(
                model.objects.select_for_update()
                .exclude(**{attr: ""})
                .filter(pk__gt=last)
                .order_by("pk")[:batch]
            )
            if not rows:
                return changed
            for row in rows:
                sealed = getattr(row, attr)
                if crypto.needs_rotation(sealed):
                    clear = crypto.decrypt(sealed, context=context, row=row_of(row))
                    model.objects.filter(pk=row.pk).update(
                        **{attr: crypto.encrypt(clear, context=context, row=row_of(row))}
                    )
                    changed += 1
            last = rows[-1].pk


def signups_reseal(*, batch: int = 500) -> int:
    """Sign-up answers, bound to the sign-up's public id. Returns how many changed."""
    return _reseal_rows(Signup, "answers_encrypted", _ANSWERS, lambda s: s.public_id, batch=batch)


def campaigns_reseal(*, batch: int = 500) -> int:
    """Sealed lottery seeds, bound to the campaign's id. Returns how many changed."""
    return _reseal_rows(Campaign, "lottery_seed_sealed", _SEED, lambda c: str(c.pk), batch=batch)
