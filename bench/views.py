"""Floor endpoints, served by the same server setup as the product for side-by-side numbers.

- trivial: what the server, WSGI and Django cost with no work at all.
- bare_admit: only the admission transaction — a conditional seat UPDATE and an INSERT guarded by a
  unique index — without auth, validation, personal data, events or the outbox.
"""

import json

from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

BARE_TABLE = "bench_bare_admission"


def bare_table_create(cursor) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (campaign_id bigint NOT NULL, member_key varchar(40) NOT NULL, "
        f"PRIMARY KEY (campaign_id, member_key))"
    )


def trivial(request):
    return HttpResponse(b"ok", content_type="text/plain")


def bare_admission(campaign_id: int, member_key: str) -> str:
    """One admission, the floor of what any admission must do. Returns confirmed / full / duplicate."""
    try:
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE campaigns_campaign SET seats_taken = seats_taken + 1 WHERE id = %s AND seats_taken < capacity",
                [campaign_id],
            )
            if cursor.rowcount != 1:
                return "full"
            cursor.execute(
                f"INSERT INTO {BARE_TABLE} (campaign_id, member_key) VALUES (%s, %s)",
                [campaign_id, member_key],
            )
        return "confirmed"
    except IntegrityError:
        return "duplicate"


@csrf_exempt
def bare_admit(request):
    body = json.loads(request.body)
    outcome = bare_admission(int(body["campaign"]), str(body["member"]))
    return JsonResponse({"status": outcome}, status=201 if outcome == "confirmed" else 409)
