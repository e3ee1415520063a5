"""A database dump holds no plaintext phone, name, address or identity number (issue 14 "done when",
S1): distinctive values go in through members, sign-up answers, orders and risk events; then the
whole database is dumped (SQLite iterdump, PostgreSQL pg_dump) and searched for each value."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from django.db import connection

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.commerce.factories import order_make
from tests.members.factories import MemberFactory
from yunying.members.services import Profile
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput

PHONE, PHONE_2 = "13712349876", "15887654321"
NAME, NAME_2 = "欧阳锦绣", "司马青云"
ADDRESS = "幸福路九十九弄八号"
IDENTITY = "110101199003077777"
PAYER = "wx-payer-钱满仓"
SECRETS = (PHONE, PHONE_2, NAME, NAME_2, ADDRESS, IDENTITY, PAYER)

FORM = [
    {"key": "addr", "type": "address", "label": "收货地址", "required": False},
    {"key": "idno", "type": "text", "label": "身份证号", "required": False},
    {"key": "tel", "type": "phone", "label": "联系电话", "required": False},
]


def _seed() -> None:
    member = MemberFactory(phone=f"+86{PHONE}", name=NAME, external_id="dump-1")
    campaign = CampaignFactory(status="published", form=FORM)
    sign_up(
        campaign,
        PHONE_2,
        answers={"addr": {"region_code": "310101", "detail": ADDRESS}, "idno": IDENTITY, "tel": PHONE},
        profile=Profile(name=NAME_2, birth_date=None),
    )
    order_make(member, "DUMP-ORDER-1", [("SKU-TEA", 5900, 1)])
    risk_assess(
        RiskInput(
            entry="order.pay", subject_type="order", subject_ref="DUMP-ORDER-1", member_ref="dump-1",
            phone=f"+86{PHONE}", identity_number=IDENTITY, address=ADDRESS, payer=PAYER, amount_fen=5900,
        )
    )  # fmt: skip


def _dump() -> str:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "\n".join(connection.connection.iterdump())
    pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = [pg_dump, "--data-only", "-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432),
               "-U", settings["USER"] or "postgres", settings["NAME"]]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, check=True, text=True).stdout


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_clear_personal_data():
    # given
    _seed()
    # when
    dump = _dump()
    # then: the dump is real (the rows are in it) and none of the values is
    assert "DUMP-ORDER-1" in dump and "SKU-TEA" in dump and "order.pay" in dump  # the risk decision too
    assert dump.count("v2:") >= 4  # member phone and name, sign-up answers: ciphertext
    assert [value for value in SECRETS if value in dump] == []
