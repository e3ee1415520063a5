"""Key rotation progress (S1), under the audit section, for the role that manages keys: per sealed
column the share re-encrypted under the active key, and which key ids still seal how many values, so
an operator knows when an old key can leave the ring. Read-only: the worker does the rotating."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from yunying.console.access import operator_required
from yunying.core import crypto
from yunying.core.permissions import Perm
from yunying.privacy.keys import key_usage, keys_in_use


@operator_required(Perm.PII_KEYS_VIEW)
@require_GET
def key_rotation(request: HttpRequest) -> HttpResponse:
    ring = crypto.ring_key_ids()
    usage = key_usage()
    in_use = keys_in_use(usage)
    columns = []
    for column in usage:
        under_active = column.by_key.get(ring[0], 0)
        percent = column.percent_under(ring[0])  # 100 only when every value is under the active key
        progress = column.progress
        if under_active == column.total:
            state = "done"  # nothing to re-encrypt, whether or not a pass ever ran
        elif progress is None or progress.key_id != ring[0]:
            state = "not_started"
        elif progress.finished_at is not None:
            state = "stragglers"  # written under an old key after the pass went by
        else:
            state = "running"
        columns.append(
            {
                "label": column.column,
                "name": column.name or column.column,  # 会员手机号, not members.Member.phone_encrypted
                "by_key": sorted(column.by_key.items()),
                "total": column.total,
                "left": column.total - under_active,
                "percent": percent,
                "meter": percent // 5 * 5,  # the CSP forbids inline widths: steps of 5 % in console.css
                "progress": progress,
                "state": state,
            }
        )
    keys = [
        {"id": key_id, "active": n == 0, "count": in_use.get(key_id, 0), "in_ring": True}
        for n, key_id in enumerate(ring)
    ] + [
        {"id": key_id, "active": False, "count": count, "in_ring": False}
        for key_id, count in sorted(in_use.items())
        if key_id not in ring
    ]
    context = {"section": "audit", "tab": "keys", "columns": columns, "keys": keys, "active": ring[0]}
    return render(request, "console/audit/keys.html", context)


urlpatterns = [path("audit/keys/", key_rotation, name="key_rotation")]
