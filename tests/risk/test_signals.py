"""The pure signal functions against their contract (risk/signals.py): one spelling per doorstep, the
carrier, IP and client classes, usable device ids, and keys that never carry a clear value."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from yunying.risk.signals import (
    RiskInput,
    address_normalise,
    carrier_class,
    device_usable,
    input_keys,
    ip_block,
    ip_class,
    ip_ranges_parse,
    ua_kind,
)

# ---------------------------------------------------------------- addresses

CITIES = ["上海市浦东新区", "北京市朝阳区", "广州市天河区", "杭州市西湖区"]
STREETS = ["张江路", "建国路", "天河北路", "文三路", "人民大道"]
ESTATES = ["", "阳光花园", "锦绣苑", "翠湖小区"]


@st.composite
def addresses(draw) -> str:
    """A plausible mainland address: city, street, house number, estate, building, unit, room."""
    city, street, estate = (
        draw(st.sampled_from(CITIES)),
        draw(st.sampled_from(STREETS)),
        draw(st.sampled_from(ESTATES)),
    )
    house = draw(st.integers(1, 2999))
    building, unit, room = draw(st.integers(1, 40)), draw(st.integers(1, 9)), draw(st.integers(101, 3208))
    return f"{city}{street}{house}号{estate}{building}栋{unit}单元{room}"


SEPARATORS = [" ", "  ", "\u3000", ",", "，", "。", "、", ";", "；", ":", "：", "(", "（", "）", "【", "】", "·", "\t",
              "！", "？", "!", "《", "》", "「", "」", "『", "』", "…", "/", "〔", "〕"]  # fmt: skip


def _to_full_width(text: str) -> str:
    return "".join(
        chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ("\u3000" if ch == " " else ch) for ch in text
    )


@given(st.one_of(addresses(), st.text(max_size=40)))
@example("某小区3-2-501室")
@example("某路5号501室室")
@example("–.–")  # two dashes that meet once the punctuation between them goes
@example("K¸")  # NFKC gives K, a space and a combining cedilla; the space goes, the two compose
def test_address_normalise_is_idempotent(address):
    once = address_normalise(address)
    assert address_normalise(once) == once


@given(addresses(), st.lists(st.tuples(st.integers(0, 200), st.sampled_from(SEPARATORS)), max_size=6))
def test_spaces_and_punctuation_do_not_change_an_address(address, insertions):
    # given an address with spaces and punctuation put anywhere
    noisy = address
    for position, separator in insertions:
        position %= len(noisy) + 1
        noisy = noisy[:position] + separator + noisy[position:]
    # then it normalises as the plain one
    assert address_normalise(noisy) == address_normalise(address)


@given(addresses())
def test_full_width_characters_do_not_change_an_address(address):
    assert address_normalise(_to_full_width(address)) == address_normalise(address)


@given(addresses(), st.sampled_from(["號", "#", "＃"]))
def test_traditional_and_variant_house_number_marks_are_one(address, mark):
    assert address_normalise(address.replace("号", mark)) == address_normalise(address)


@given(addresses(), st.sampled_from(["幢", "棟", "座"]))
def test_building_variants_are_one(address, word):
    assert address_normalise(address.replace("栋", word)) == address_normalise(address)


@given(addresses(), st.sampled_from(["室", "房"]))
def test_a_room_word_after_the_room_number_is_dropped(address, word):
    assert address_normalise(address + word) == address_normalise(address)


@given(st.sampled_from(CITIES), st.sampled_from(STREETS), st.integers(1, 40), st.integers(1, 9), st.integers(101, 3208), st.sampled_from(["", "室"]),
       st.sampled_from(["-", "－", "—", "——", "–", "−", "‐", "﹣"]))  # fmt: skip
def test_building_unit_room_dashes_read_as_words(city, street, building, unit, room, room_word, dash):
    # given "3-2-501" (any dash a keyboard gives) and "3栋2单元501", each with or without 室
    dashed = f"{city}{street}8号{building}{dash}{unit}{dash}{room}{room_word}"
    worded = f"{city}{street}8号{building}栋{unit}单元{room}"
    # then they are one address
    assert address_normalise(dashed) == address_normalise(worded)


@given(addresses(), st.integers(1, 2999), st.integers(1, 2999))
def test_different_house_numbers_stay_different(address, one, other):
    assume(one != other)
    base = re.sub(r"\d+号", "{}号", address, count=1)
    assert address_normalise(base.format(one)) != address_normalise(base.format(other))


@given(addresses(), st.integers(101, 3208))
def test_different_rooms_stay_different(address, room):
    other = re.sub(r"\d+$", str(room), address)
    assume(other != address)
    assert address_normalise(other) != address_normalise(address)


# ---------------------------------------------------------------- carrier class

CARRIERS = [
    ("13800138000", "mobile"),
    ("+86 138 0013 8000", "mobile"),
    ("+86-138-0013-8000", "mobile"),
    ("８６１３８００１３８０００", "mobile"),  # full-width digits
    ("１３８ ００１３ ８０００", "mobile"),
    ("19912345678", "mobile"),
    ("17012345678", "virtual"),
    ("17112345678", "virtual"),
    ("16212345678", "virtual"),
    ("16512345678", "virtual"),
    ("16712345678", "virtual"),
    ("+86 170 1234 5678", "virtual"),
    ("１７１１２３４５６７８", "virtual"),
    ("010-12345678", "unknown"),  # a Beijing landline
    ("02112345678", "unknown"),
    ("1380013800", "unknown"),  # ten digits
    ("138001380001", "unknown"),  # twelve
    ("12012345678", "unknown"),  # no such mobile prefix
    ("not a phone", "unknown"),
    ("", "unknown"),
    (None, "unknown"),
]


@pytest.mark.parametrize(("phone", "expected"), CARRIERS, ids=[f"{p!r}->{e}" for p, e in CARRIERS])
def test_carrier_class(phone, expected):
    assert carrier_class(phone) == expected


# ---------------------------------------------------------------- IP class, block, user agent

IPS = [
    ("47.92.1.1", "datacentre"),  # Alibaba Cloud
    ("119.29.29.29", "datacentre"),  # Tencent Cloud
    ("117.136.1.1", "mobile"),  # China Mobile gateway
    ("223.104.3.4", "mobile"),
    ("114.80.1.1", "residential"),
    ("240e:3b0::1", "residential"),  # a public IPv6 address in no table
    ("::ffff:47.92.1.1", "datacentre"),  # IPv4-mapped IPv6 reads as its IPv4 address
    ("::ffff:117.136.1.1", "mobile"),
    ("::ffff:192.168.1.2", "private"),
    ("10.1.2.3", "private"),
    ("172.16.0.9", "private"),
    ("192.168.1.2", "private"),
    ("127.0.0.1", "private"),
    ("169.254.1.1", "private"),
    ("::1", "private"),
    ("fd00::1", "private"),
    ("fe80::1", "private"),
    (" 47.92.1.1 ", "datacentre"),
    ("999.1.1.1", "unknown"),
    ("not an ip", "unknown"),
    ("47.92.1.0/24", "unknown"),
    ("", "unknown"),
    (None, "unknown"),
]


@pytest.mark.parametrize(("ip", "expected"), IPS, ids=[f"{i!r}->{e}" for i, e in IPS])
def test_ip_class(ip, expected):
    assert ip_class(ip) == expected


def test_ipv6_ranges_from_the_operators_file_classify(settings, tmp_path):
    # given an operator's table with an IPv6 datacentre range and a carve-out inside an IPv4 one
    table = tmp_path / "ranges.txt"
    table.write_text(
        "2400:3200:aa::/48 datacentre  # a cloud\n47.92.0.0/14 datacentre\n47.92.1.0/24 mobile\n"
    )
    settings.RISK_IP_RANGES_FILE = str(table)
    # then an address in the IPv6 range is datacentre, and the most specific prefix wins
    assert ip_class("2400:3200:aa:1::5") == "datacentre"
    assert ip_class("47.92.1.1") == "mobile"
    assert ip_class("47.92.2.1") == "datacentre"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("1.2.3.0/24 residential\n", "line 1"),
        ("# c\n\n1.2.3.0/33 datacentre\n", "line 3"),
        ("1.2.3.4\n", "line 1"),
    ],
    ids=["unknown-class", "bad-prefix", "no-class"],
)
def test_ip_ranges_parse_names_the_bad_line(text, line):
    with pytest.raises(ValueError, match=line):
        ip_ranges_parse(text)


@pytest.mark.parametrize(
    ("ip", "block"),
    [
        ("47.92.1.77", "47.92.1.0/24"),
        ("::ffff:47.92.1.77", "47.92.1.0/24"),
        ("240e:3b0:1:2::1", "240e:3b0:1::/48"),
        ("garbage", ""),
        (None, ""),
    ],
    ids=["ipv4", "mapped", "ipv6", "garbage", "none"],
)
def test_ip_block(ip, block):
    assert ip_block(ip) == block


@pytest.mark.parametrize(
    ("agent", "kind"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0", "browser"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", "browser"),
        ("python-requests/2.31.0", "scripted"),
        ("curl/8.4.0", "scripted"),
        ("okhttp/4.12.0", "scripted"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36", "scripted"),
        ("Go-http-client/1.1", "scripted"),
        ("Googlebot/2.1", "scripted"),
        ("", None),
        ("   ", None),
    ],
    ids=["wechat", "chrome", "python-requests", "curl", "okhttp", "headless", "go", "bot", "empty", "blank"],
)  # fmt: skip
def test_ua_kind(agent, kind):
    assert ua_kind(agent) == kind


@pytest.mark.parametrize(
    ("device", "usable"),
    [
        ("00000000-0000-0000-0000-000000000000", False),  # a zeroed IDFA
        ("unknown", False),
        ("UNKNOWN", False),
        ("null", False),
        ("undefined", False),
        ("000000", False),
        ("abc", False),  # too short to tell anyone apart
        ("", False),
        ("6D92078A-8246-4BA4-AE5B-76104861E7DC", True),
        ("a1b2c3d4e5", True),
    ],
    ids=[
        "zeroed-idfa",
        "unknown",
        "UNKNOWN",
        "null",
        "undefined",
        "zeros",
        "short",
        "empty",
        "idfa",
        "android-id",
    ],
)
def test_device_usable(device, usable):
    assert device_usable(device) is usable


# ---------------------------------------------------------------- keys never carry a clear value


@given(
    st.integers(10_000_000, 99_999_999).map(lambda n: f"138{n}"),
    addresses(),
    st.from_regex(r"[1-9][0-9]{16}[0-9X]", fullmatch=True),
    st.from_regex(r"[a-f0-9]{12,36}", fullmatch=True).map(lambda d: f"A{d}"),
)
def test_input_keys_never_contain_a_clear_value(phone, address, identity, device):
    data = RiskInput(
        entry="signup.create",
        subject_type="signup",
        subject_ref="S1",
        member_ref="M1",
        ip="114.80.1.1",
        device_id=device,
        phone=f"+86 {phone}",
        identity_number=identity,
        address=address,
        payer="alipay:someone@example.com",
    )
    keys = input_keys(data)
    assert set(keys) == {
        "ip",
        "ip24",
        "device",
        "phone",
        "phone_block",
        "identity",
        "address",
        "building",
        "payer",
    }
    clear = [
        phone,
        phone[-8:],
        identity,
        device,
        address,
        address_normalise(address),
        "someone@example.com",
        "114.80.1",
    ]
    for kind, key in keys.items():
        assert key.startswith(f"{kind}:")
        for value in clear:
            assert value not in key, (kind, value)


def test_input_keys_leave_out_what_is_absent_or_unusable():
    keys = input_keys(
        RiskInput(entry="sms.send", subject_type="sms", subject_ref="x", device_id="unknown", ip="garbage")
    )
    assert keys == {}


def test_variants_of_one_doorstep_have_one_key():
    one = input_keys(
        RiskInput(
            entry="order.ingest", subject_type="order", subject_ref="o", address="上海市张江路88号3-2-501"
        )
    )
    other = input_keys(RiskInput(entry="order.ingest", subject_type="order", subject_ref="o", address="上海市 张江路 88號 3幢2单元501室"))  # fmt: skip
    assert one["address"] == other["address"]
    assert one["building"] == other["building"]
