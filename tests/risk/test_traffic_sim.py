"""The risk traffic simulator (bench/risk_traffic.py): the format the backtest reads, and traffic worth tuning on."""

from __future__ import annotations

import ipaddress
import json
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest

from bench import risk_traffic as rt

VARIANTS = rt.VARIANTS
ALL_FAMILIES = rt.HONEST_FAMILIES + rt.FRAUD_FAMILIES
BOT_UA = ("python-requests", "okhttp", "headless", "curl", "go-http-client", "httpx")


@pytest.fixture(scope="module")
def traffic() -> dict[str, list[dict]]:
    return {variant: rt.generate(7, variant=variant) for variant in VARIANTS}


def nets(cidrs) -> list:
    return [ipaddress.ip_network(c) for c in cidrs]


ALLOWED_NETS = nets([*rt.DATACENTRE.values(), *rt.MOBILE_GATEWAYS, *rt.RESIDENTIAL])


def at(record: dict) -> datetime:
    return datetime.fromisoformat(record["at"])


def signups(records, family=None, label=None):
    return [
        r
        for r in records
        if r["type"] == "signup"
        and (family is None or r["family"] == family)
        and (label is None or r["label"] == label)
    ]


def test_the_same_seed_gives_the_same_traffic_and_another_seed_other_traffic():
    # given / when
    first = rt.generate(3, scale=0.2)
    again = rt.generate(3, scale=0.2)
    other = rt.generate(4, scale=0.2)
    # then
    assert first == again
    assert first != other


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_record_has_the_traffic_format(traffic, variant):
    records = traffic[variant]
    ids: dict[str, set] = defaultdict(set)
    members: dict[str, datetime] = {}
    previous = None
    for record in records:
        # given a record
        kind = record["type"]
        when = at(record)
        # then: required fields, types, an aware time, ids unique per type, in order of `at`
        assert kind in ("member", "signup", "order")
        assert isinstance(record["id"], str) and record["id"] not in ids[kind]
        ids[kind].add(record["id"])
        assert when.utcoffset() is not None
        assert previous is None or when >= previous
        previous = when
        assert record["label"] in ("honest", "fraud")
        assert record["family"] in ALL_FAMILIES
        assert (record["label"] == "fraud") == (record["family"] in rt.FRAUD_FAMILIES)
        signals = record["signals"]
        assert set(signals) <= {"ip", "device_id", "user_agent", "form_fill_ms", "channel"}
        assert all(
            isinstance(signals[k], str) for k in ("ip", "device_id", "user_agent", "channel") if k in signals
        )
        assert signals.get("form_fill_ms") is None or isinstance(signals["form_fill_ms"], int)
        if "ip" in signals:
            ip = ipaddress.ip_address(signals["ip"])
            assert any(ip in net for net in ALLOWED_NETS), signals["ip"]
        if kind == "member":
            assert set(record) <= {"type", "id", "at", "signals", "label", "family", "phone", "identity_number",
                                   "address", "invited_by"}  # fmt: skip
            members[record["id"]] = when
        else:
            # signup.member and order.member name a member registered at or before
            assert record["member"] in members and members[record["member"]] <= when
        if kind == "signup":
            assert isinstance(record["campaign"], str) and record["campaign"]
            assert isinstance(record.get("answers", {}), dict)
        if kind == "order":
            assert isinstance(record["amount_fen"], int) and record["amount_fen"] > 0
            refunded = record.get("refunded_fen")
            assert refunded is None or (isinstance(refunded, int) and 0 < refunded <= record["amount_fen"])
    for record in records:
        if record.get("invited_by"):
            assert record["invited_by"] in members


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_family_appears(traffic, variant):
    families = Counter(r["family"] for r in signups(traffic[variant]))
    assert set(families) == set(ALL_FAMILIES)


@pytest.mark.parametrize("variant", VARIANTS)
def test_proportions(traffic, variant):
    records = traffic[variant]
    honest = signups(records, label="honest")
    fraud = signups(records, label="fraud")
    members = [r for r in records if r["type"] == "member" and r["label"] == "honest"]
    orders = [r for r in records if r["type"] == "order" and r["label"] == "honest"]
    # the honest population at scale 1.0
    assert 2500 <= len(members) <= 3500
    assert 5000 <= len(honest) <= 7000
    assert 1700 <= len(orders) <= 2600
    # fraud is 15-25 % of sign-ups; each honest hard case 3-8 % of honest sign-ups
    assert 0.15 <= len(fraud) / (len(honest) + len(fraud)) <= 0.25
    per_family = Counter(r["family"] for r in honest)
    for family in rt.HARD_FAMILIES:
        assert 0.03 <= per_family[family] / len(honest) <= 0.08, (family, per_family[family])


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_hot_campaign_opens_with_a_rush_of_distinct_honest_people(traffic, variant):
    records = traffic[variant]
    hot = next(c for c in rt.PARAMS[variant].campaigns if c.hot)
    first_minute = [
        r
        for r in signups(records, label="honest")
        if r["campaign"] == hot.key and hot.opens_at <= at(r) < hot.opens_at + timedelta(seconds=60)
    ]
    assert len(first_minute) >= 200
    assert len({r["member"] for r in first_minute}) == len(first_minute)
    # carrier NAT: one mobile gateway carries many of them
    assert max(Counter(r["signals"]["ip"] for r in first_minute).values()) >= 10
    assert any(r["family"] == "campus_nat" for r in first_minute)


@pytest.mark.parametrize("variant", VARIANTS)
def test_honest_fills_are_human_except_retries(traffic, variant):
    records = traffic[variant]
    fills = [r["signals"]["form_fill_ms"] for r in records if r["label"] == "honest" and r["type"] != "order"]
    retries = defaultdict(list)
    for r in signups(records, family="retry"):
        retries[(r["member"], r["campaign"])].append(r)
    # every honest fill but a retry's is at least 2.5 s, and the median is 10-60 s
    fast = [
        r for r in records if r["label"] == "honest" and (r["signals"].get("form_fill_ms") or 10**6) < 2500
    ]
    assert all(r["family"] == "retry" and r["type"] == "signup" for r in fast)
    assert 10_000 <= statistics.median(fills) <= 60_000
    # a retry: 2-4 attempts at the same campaign within a minute, same device and IP, distinct records
    attempts = [group for group in retries.values() if len(group) > 1]
    assert attempts
    for group in attempts:
        assert 2 <= len(group) <= 4
        assert (at(group[-1]) - at(group[0])).total_seconds() <= 60
        assert len({(r["signals"]["device_id"], r["signals"]["ip"]) for r in group}) == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_hard_honest_cases_share_what_fraud_shares(traffic, variant):
    records = traffic[variant]
    campus = signups(records, family="campus_nat")
    by_ip = Counter(r["signals"]["ip"] for r in campus)
    ip, _count = by_ip.most_common(1)[0]
    behind_nat = [r for r in campus if r["signals"]["ip"] == ip]
    assert len({r["member"] for r in behind_nat}) >= 40
    assert len({r["signals"]["device_id"] for r in behind_nat}) == len({r["member"] for r in behind_nat})
    # families: one device, several members, each with its own phone
    family = [r for r in records if r["type"] == "member" and r["family"] == "family_device"]
    per_device = Counter(r["signals"]["device_id"] for r in family)
    assert max(per_device.values()) >= 2
    assert len({r["phone"] for r in family}) == len(family)
    virtual = [r for r in records if r["type"] == "member" and r["family"] == "virtual_honest"]
    assert all(r["phone"].removeprefix("+86")[:3] in rt.VIRTUAL_PREFIXES for r in virtual)


@pytest.mark.parametrize("variant", VARIANTS)
def test_fraud_families_have_their_nature(traffic, variant):
    records = traffic[variant]
    fraud = [r for r in records if r["label"] == "fraud"]
    by_family = defaultdict(list)
    for r in fraud:
        by_family[r["family"]].append(r)
    # bots: mostly scripted UAs or sub-second fills, and a careful minority looking like browsers
    bots = [r for r in by_family["bot_signup"] if r["type"] == "signup"]
    scripted = [
        r
        for r in bots
        if any(b in r["signals"]["user_agent"].lower() for b in BOT_UA)
        or (r["signals"].get("form_fill_ms") or 0) < 2000
    ]
    assert 0.5 <= len(scripted) / len(bots) < 1.0
    # sms farms: few devices carry many accounts, mostly sub-4 s fills
    farm = [r for r in by_family["sms_farm"] if r["type"] == "member"]
    assert len({r["signals"]["device_id"] for r in farm}) < len(farm)
    assert statistics.median(r["signals"]["form_fill_ms"] for r in farm) < 4000
    # brushing: payers shared across accounts, small first orders, refunds
    orders = [r for r in by_family["brushing"] if r["type"] == "order"]
    accounts_per_payer = defaultdict(set)
    for r in orders:
        accounts_per_payer[r["payer"]].add(r["member"])
    assert max(len(v) for v in accounts_per_payer.values()) >= 3
    firsts = {}
    for r in orders:
        firsts.setdefault(r["member"], r["amount_fen"])
    assert statistics.median(firsts.values()) <= 1000
    assert sum(1 for r in orders if r.get("refunded_fen")) >= len(orders) // 3
    # referral abuse: at least one invite cycle
    invited = {r["id"]: r.get("invited_by", "") for r in by_family["referral_abuse"] if r["type"] == "member"}
    cycles = 0
    for start in invited:
        seen, node = set(), invited[start]
        while node and node not in seen and node != start:
            seen.add(node)
            node = invited.get(node, "")
        cycles += node == start
    assert cycles >= 3
    # coupon abuse: one address written many ways by many accounts
    coupon = [r for r in by_family["coupon_abuse"] if r["type"] == "member"]
    assert len({r["signals"]["device_id"] for r in coupon}) < len(coupon) / 2


def fill_median(records, family):
    return statistics.median(
        r["signals"]["form_fill_ms"]
        for r in signups(records, family=family)
        if r["signals"].get("form_fill_ms")
    )


def test_holdout_draws_from_other_ranges_than_dev(traffic):
    dev, holdout = traffic["dev"], traffic["holdout"]
    # fill times differ per family
    for family in ("normal", "rush", "retry", "sms_farm", "bot_signup"):
        a, b = fill_median(dev, family), fill_median(holdout, family)
        assert abs(a - b) / max(a, b) >= 0.1, (family, a, b)

    # no IP, user agent or campaign in common
    def field(records, name):
        return {r["signals"].get(name) for r in records} - {None}

    assert not field(dev, "ip") & field(holdout, "ip")
    assert len(field(dev, "user_agent") & field(holdout, "user_agent")) == 0
    assert not {r["campaign"] for r in signups(dev)} & {r["campaign"] for r in signups(holdout)}

    # device id shapes
    def shapes(records):
        return Counter(
            "idfa"
            if d.isupper()
            else "uuid"
            if d.count("-") == 4 and ":" not in d
            else d.split("-")[0]
            if "-" in d
            else len(d)
            for d in field(records, "device_id")
        )

    assert set(shapes(dev)) != set(shapes(holdout))


def test_write_gives_one_jsonl_file_per_type(tmp_path):
    # given
    records = rt.generate(5, scale=0.1)
    # when
    rt.write(records, tmp_path)
    # then
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["members.jsonl", "orders.jsonl", "signups.jsonl"]
    back = [
        json.loads(line)
        for name in names
        for line in (tmp_path / name).read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(back, key=lambda r: (r["type"], r["id"])) == sorted(
        records, key=lambda r: (r["type"], r["id"])
    )
    for name in names:
        lines = [json.loads(line) for line in (tmp_path / name).read_text(encoding="utf-8").splitlines()]
        assert {r["type"] for r in lines} == {name.removesuffix("s.jsonl")}


def test_the_command_line_writes_and_counts(tmp_path, capsys):
    rt.main(["--out", str(tmp_path / "t"), "--seed", "2", "--scale", "0.1", "--variant", "holdout"])
    out = capsys.readouterr().out
    assert "sms_farm" in out and "campus_nat" in out
    assert (tmp_path / "t" / "signups.jsonl").stat().st_size > 0
