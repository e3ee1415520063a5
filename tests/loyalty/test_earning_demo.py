"""`yunying demo` starts with points rules, and its members earned through them: the ledger agrees."""

import io

import pytest
from django.core.management import call_command

from yunying.loyalty.ledger import ledger_reconcile
from yunying.loyalty.models import PointPosting, PointsRules, PostingSource


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.mark.django_db
def test_the_demo_loads_default_rules_and_members_earn_by_them():
    call_command("demo", stdout=io.StringIO())
    rules = PointsRules.objects.get()
    assert (rules.points_per_unit, rules.unit_fen, rules.welcome_points, rules.birthday_permille) == (
        1,
        100,
        100,
        2000,
    )
    sources = set(PointPosting.objects.values_list("source", flat=True))
    assert {PostingSource.WELCOME, PostingSource.SIGNUP, PostingSource.ORDER} <= sources
    assert ledger_reconcile() == []
