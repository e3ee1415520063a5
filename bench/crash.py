"""Setup and verification for the crash test, run as `python -m bench.crash …` under the server's
environment (so it sees the same database and Redis as the server it checks)."""

from __future__ import annotations

import argparse
import json


def setup(capacity: int) -> dict:
    from django.core.management import call_command

    from bench.signup_burst import _campaign
    from yunying.core.apikeys import apikey_create
    from yunying.core.permissions import Role

    call_command("migrate", verbosity=0)
    _, token = apikey_create(name="crash test", role=Role.INTEGRATION)
    return {"campaign": _campaign(capacity, "crash test").pk, "token": token}


def count(campaign_id: int) -> dict:
    from yunying.campaigns.models import Signup

    return {"signups": Signup.objects.filter(campaign_id=campaign_id).count()}


def verify(campaign_id: int) -> dict:
    """The database's truth and what each seat counter says, after repairing the counters."""
    from django.core.management import call_command
    from django.db.models import Count

    from yunying.campaigns.models import BLOCKING_STATUSES, Campaign, Signup
    from yunying.campaigns.seats import RedisSeats, _keys, ledger

    call_command("repair_counters", "--grace", "0", verbosity=0)  # nothing is in flight any more
    campaign = Campaign.objects.get(pk=campaign_id)
    rows = Signup.objects.filter(campaign=campaign)
    holders = rows.filter(status__in=BLOCKING_STATUSES)
    report = {
        "capacity": campaign.capacity,
        "ids": list(rows.values_list("pk", flat=True)),
        "confirmed": rows.filter(status="confirmed").count(),
        "members_twice": holders.values("member").annotate(n=Count("id")).filter(n__gt=1).count(),
        "row_counter": campaign.seats_taken,
    }
    active = ledger()
    if isinstance(active, RedisSeats):
        keys = _keys(campaign_id)
        report["redis_seats"] = int(active.client.get(keys["seats"]))
        report["redis_members"] = sorted(int(m) for m in active.client.smembers(keys["members"]))
        report["db_members"] = sorted(holders.values_list("member_id", flat=True))
    return report


def main() -> None:
    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["setup", "count", "verify"])
    parser.add_argument("--capacity", type=int, default=300)
    parser.add_argument("--campaign", type=int, default=0)
    args = parser.parse_args()
    django.setup()
    if args.action == "setup":
        result = setup(args.capacity)
    elif args.action == "count":
        result = count(args.campaign)
    else:
        result = verify(args.campaign)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
