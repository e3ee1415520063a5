"""What risk control knows about one event (R1): the caller's `RiskInput`, and the pure functions
that turn its raw values into signals — phone carrier class, IP class, user-agent kind, the normalised
address — and into the keyed hashes that are all risk control ever stores of a person.

Nothing here touches the database; counters.py and graph.py add what needs history.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import phonenumbers

from yunying.core import crypto


class Entry(StrEnum):
    """The entry points that consult risk control; stored on every decision, never renamed."""

    MEMBER_REGISTER = "member.register"
    SMS_SEND = "sms.send"
    SIGNUP_CREATE = "signup.create"
    COUPON_CLAIM = "coupon.claim"
    REFERRAL_REWARD = "referral.reward"
    ORDER_INGEST = "order.ingest"


@dataclass(frozen=True)
class RiskInput:
    """One event to judge. Clear personal values (phone, identity number, address, payer) live only in
    this object, in memory: risk control keeps their keyed hashes and classes, never the values."""

    entry: str
    subject_type: str  # member | sms | signup | coupon | referral | order
    subject_ref: str  # the subject's public or external id
    member_ref: str = ""  # the member's stable reference; "" when not known yet (an SMS code send)
    at: datetime | None = None  # the event's time; None = now (the backtest passes the recorded time)
    ip: str | None = None
    device_id: str = ""
    user_agent: str = ""
    form_fill_ms: int | None = None
    channel: str = ""
    campaign_ref: str = ""
    phone: str | None = None
    identity_number: str | None = None
    address: str | None = None
    payer: str | None = None
    invited_by: str = ""  # the inviter's member_ref: an invite edge
    amount_fen: int | None = None
    challenge: str = ""  # a passed challenge's token, when the caller retries after one


@dataclass(frozen=True)
class ClientSignals:
    """What an entry point knows of the client in front of it (the member's phone or browser)."""

    ip: str | None = None
    device_id: str = ""
    user_agent: str = ""
    challenge: str = ""  # a passed challenge's token, when retrying after one


# ---------------------------------------------------------------- phone carrier class

# Virtual operators (虚拟运营商): numbers resold by MVNOs, cheap in bulk, the SMS farms' stock.
VIRTUAL_PREFIXES = ("170", "171", "162", "165", "167")


class CarrierClass(StrEnum):
    MOBILE = "mobile"
    VIRTUAL = "virtual"
    UNKNOWN = "unknown"


def phone_digits(phone: str | None) -> str:
    """A mainland mobile number's 11 digits (full-width digits, spaces, dashes and +86 folded), or ""."""
    if not phone:
        return ""
    # ASCII digits after folding: full-width ones fold to them, other scripts' digits do not count.
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone) if "0" <= ch <= "9")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) == 11 and digits.startswith("1") else ""


def carrier_class(phone: str | None) -> CarrierClass:
    """mobile, virtual (an MVNO prefix) or unknown (not a valid mainland mobile number)."""
    digits = phone_digits(phone)
    if not digits:
        return CarrierClass.UNKNOWN
    if digits.startswith(VIRTUAL_PREFIXES):
        return CarrierClass.VIRTUAL
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return CarrierClass.UNKNOWN
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in kinds:
        return CarrierClass.MOBILE
    return CarrierClass.UNKNOWN


# ---------------------------------------------------------------- IP class


class IpClass(StrEnum):
    RESIDENTIAL = "residential"
    MOBILE = "mobile"
    DATACENTRE = "datacentre"
    PRIVATE = "private"
    UNKNOWN = "unknown"


IP_RANGES_FILE = Path(__file__).with_name("data") / "ip_ranges.txt"


def ip_ranges_parse(text: str) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    """Lines of "CIDR class  # comment". Raises ValueError naming the first bad line."""
    ranges = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or parts[1] not in (IpClass.DATACENTRE, IpClass.MOBILE):
            raise ValueError(f"line {number}: expected 'CIDR datacentre|mobile'")
        try:
            ranges.append((ipaddress.ip_network(parts[0], strict=False), parts[1]))
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from exc
    # The most specific prefix first, so a carve-out wins over its enclosing block.
    ranges.sort(key=lambda item: -item[0].prefixlen)
    return ranges


@lru_cache(maxsize=1)
def _ip_ranges(path: str) -> tuple:
    return tuple(ip_ranges_parse(Path(path).read_text(encoding="utf-8")))


def ip_ranges_path() -> str:
    from django.conf import settings

    return str(getattr(settings, "RISK_IP_RANGES_FILE", "") or IP_RANGES_FILE)


def ip_class(ip: str | None) -> IpClass:
    address = ip_parse(ip)
    if address is None:
        return IpClass.UNKNOWN
    if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
        return IpClass.PRIVATE
    for network, kind in _ip_ranges(ip_ranges_path()):
        if address.version == network.version and address in network:
            return IpClass(kind)
    return IpClass.RESIDENTIAL


def ip_parse(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def ip_block(ip: str | None) -> str:
    """The address's /24 (IPv4) or /48 (IPv6): rotating addresses of one proxy pool share it."""
    address = ip_parse(ip)
    if address is None:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


# ---------------------------------------------------------------- user agent

_SCRIPTED = re.compile(
    r"python|curl|wget|okhttp|headless|phantomjs|selenium|puppeteer|playwright|scrapy|go-http-client"
    r"|java/|apache-httpclient|axios|node-fetch|libwww|httpie|postman|bot\b|spider|crawler",
    re.IGNORECASE,
)


def ua_kind(user_agent: str) -> str | None:
    """browser, scripted (an HTTP library or a headless browser names itself), or None when the
    caller sent none (a storefront's server-to-server call often has none to pass on)."""
    if not user_agent.strip():
        return None
    return "scripted" if _SCRIPTED.search(user_agent) else "browser"


# ---------------------------------------------------------------- addresses

# Traditional and variant characters folded to one form (號 and 号 are one house number).
_FOLD = str.maketrans(
    {
        "號": "号", "樓": "楼", "層": "层", "棟": "栋", "幢": "栋", "單": "单", "區": "区", "縣": "县",
        "門": "门", "東": "东", "廣": "广", "鎮": "镇", "鄉": "乡", "場": "场", "館": "馆", "灣": "湾",
        "舍": "舍", "座": "栋", "#": "号", "＃": "号",
    }
)  # fmt: skip
_DASHES = re.compile(r"[-‐‑‒–—―−﹣－]+")  # any dash a keyboard gives, "——" too, is one "-"
_ROOM = re.compile(r"(\d+)(?:室|房|户)+")
_FLOOR = re.compile(r"(\d+)(?:楼层|层|f\b|楼(?=\d))", re.IGNORECASE)
_BUILDING_UNIT_ROOM = re.compile(r"(\d+)-(\d+)-(\d+)$")  # 3-2-501: building 3, unit 2, room 501


def address_normalise(address: str) -> str:
    """One spelling of an address, so variants of one doorstep hash alike: full-width folded,
    traditional and variant characters folded (號/号, 幢/栋), spaces and punctuation dropped, 室/房 after
    a room number dropped, floors written "N层", and "3-2-501" read as 3栋2单元501."""
    text = unicodedata.normalize("NFKC", address).lower().translate(_FOLD)
    # Spaces and every punctuation mark go, except dashes, which fold into the one that 3-2-501 needs.
    text = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) == "Pd"
        or not (ch.isspace() or ch in "~～" or unicodedata.category(ch)[0] == "P")
    )
    text = _DASHES.sub("-", text)
    text = _ROOM.sub(r"\1", text)  # before the dashes: "3-2-501室" is 3-2-501
    text = _BUILDING_UNIT_ROOM.sub(r"\1栋\2单元\3", text)
    text = _FLOOR.sub(r"\1层", text)
    # Dropping a space can leave a combining mark beside a letter ("K ̧"): compose them, so a second
    # pass changes nothing.
    return unicodedata.normalize("NFKC", text)


def address_building(normalised: str) -> str:
    """The normalised address without its trailing room number: one building's doorsteps."""
    return re.sub(r"\d+$", "", normalised)


# ---------------------------------------------------------------- hashes


def keyed_hash(kind: str, value: str) -> str:
    """A keyed hash (HMAC under a key of its own per kind) of a normalised value; "" for nothing."""
    return crypto.blind_index(value, context=f"risk.{kind}")[:32] if value else ""


_DEGENERATE_DEVICE = re.compile(r"^(?:0|-|unknown|null|none|undefined|\s)*$", re.IGNORECASE)


def device_usable(device_id: str) -> bool:
    """A zeroed advertising id or "unknown" is shared by millions of honest phones: never a key."""
    return len(device_id.strip()) >= 6 and not _DEGENERATE_DEVICE.match(device_id)


def identity_normalise(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().upper().replace(" ", "")


def payer_normalise(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def input_keys(data: RiskInput) -> dict[str, str]:
    """The velocity and graph keys of one event, by kind ("ip" -> "ip:<hash>"); absent values omitted."""
    values = {
        "ip": str(ip_parse(data.ip) or ""),
        "ip24": ip_block(data.ip),
        "device": data.device_id.strip()[:128] if device_usable(data.device_id) else "",
        "phone": phone_digits(data.phone),
        "identity": identity_normalise(data.identity_number),
        "address": address_normalise(data.address) if data.address else "",
        "payer": payer_normalise(data.payer),
    }
    if values["phone"]:
        # Numbers bought in a run from one block of a thousand (13800138000–13800138999): a farm's
        # consecutive numbers share it; two strangers' numbers almost never do.
        values["phone_block"] = values["phone"][:8]
    if values["address"]:
        values["building"] = address_building(values["address"])
    return {kind: f"{kind}:{keyed_hash(kind, value)}" for kind, value in values.items() if value}


# The keys that link two members as one person or ring in the shared-attribute graph. An IP does not:
# a campus or a carrier gateway puts thousands of strangers behind one address.
GRAPH_KINDS = ("device", "identity", "address", "payer")
