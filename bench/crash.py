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
    """The database's truth and what the seat counter says — read as the crash left it, unrepaired:
    the counter moves in the same transaction as the rows, so it must already agree."""
    from django.db.models import Count

    from yunying.campaigns.models import BLOCKING_STATUSES, Campaign, Signup

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
