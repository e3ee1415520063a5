"""Labelled traffic for the risk engine (issue 13): honest people, their hard cases, and fraud families.

Pure Python, no Django. The records follow the backtest's traffic format (docs/risk.md, "Traffic format"):
`member`, `signup` and `order` dicts with `signals`, a `label` ("honest" | "fraud") and a `family`.

    python -m bench.risk_traffic --out var/traffic/dev [--seed 1] [--scale 1.0] [--variant dev|holdout]

`variant="holdout"` draws from other parameter ranges (timings, group sizes, proportions, IP half-blocks,
user agents, device id shapes) than "dev", so rules tuned on dev are judged on traffic they have not seen.
The families and what makes each one what it is stay the same. docs/risk-traffic.md describes them.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

CST = timezone(timedelta(hours=8))
WINDOW_START = datetime(2026, 11, 1, tzinfo=CST)
WINDOW_END = WINDOW_START + timedelta(days=3)
VARIANTS = ("dev", "holdout")

HONEST_FAMILIES = ("normal", "campus_nat", "family_device", "virtual_honest", "rush", "retry")
HARD_FAMILIES = HONEST_FAMILIES[1:]
FRAUD_FAMILIES = ("sms_farm", "bot_signup", "brushing", "coupon_abuse", "referral_abuse")

# The risk engine's tables (risk/data); every address drawn stays inside them.
DATACENTRE = {
    "aliyun": "47.92.0.0/14",
    "tencent": "119.29.0.0/16",
    "huawei": "121.36.0.0/16",
    "aws": "3.0.0.0/9",
    "gcp": "34.64.0.0/10",
    "azure": "20.0.0.0/11",
    "digitalocean": "159.65.0.0/16",
}
MOBILE_GATEWAYS = ("117.136.0.0/13", "223.104.0.0/14", "112.96.0.0/15")
RESIDENTIAL = ("113.64.0.0/11", "180.96.0.0/11", "222.64.0.0/11", "123.112.0.0/12")

MOBILE_PREFIXES = (
    "139",
    "138",
    "135",
    "136",
    "137",
    "150",
    "151",
    "152",
    "186",
    "185",
    "158",
    "159",
    "177",
    "199",
    "188",
    "187",
    "131",
    "132",
    "155",
    "156",
    "133",
    "153",
    "180",
    "189",
    "181",
)
VIRTUAL_PREFIXES = ("170", "171", "162", "165", "167")


@dataclass(frozen=True)
class Campaign:
    key: str
    opens_at: datetime
    weight: float  # popularity among honest members
    hot: bool = False
    coupon: bool = False  # the new-user coupon campaign coupon abusers claim
    ships: bool = False  # sign-ups carry a delivery address (samples, gifts)


@dataclass(frozen=True)
class Params:
    """Everything that differs between the dev and the holdout traffic."""

    half: int  # which half of each IP block is used: 0 dev, 1 holdout
    campaigns: tuple[Campaign, ...]
    datacentres: tuple[str, ...]
    # honest timings (seconds): lognormal median / sigma of form fills, share and range of fast typists
    register_fill_median: float
    signup_fill_median: float
    fill_sigma: float
    fast_typist_share: float
    fast_typist_s: tuple[float, float]
    opening_pull: float  # share of an honest member's sign-ups drawn to a campaign's opening
    opening_mean_s: float  # mean delay after opening of those
    gateway_pool: int  # carrier NAT gateways honest mobile sessions share
    mobile_share: float  # honest sessions on the mobile network rather than home broadband
    # honest hard cases
    campus_count: int
    campus_size: tuple[int, int]
    family_groups: int
    family_size: tuple[int, int]
    family_shared_payer: float
    virtual_members: int
    rush_members: int
    rush_fill_s: tuple[float, float]
    rush_gateways: int
    retry_members: int
    retry_attempts: tuple[int, int]
    retry_fill_s: tuple[float, float]
    retry_span_s: float
    normal_members: int
    honest_orders: int
    pre_window_share: float  # members registered in the 30 days before the window
    # fraud
    sms_batches: int
    sms_batch_size: tuple[int, int]
    sms_span_min: tuple[float, float]
    sms_fill_s: tuple[float, float]
    sms_virtual_share: float
    sms_emulator_share: float  # batches on a few emulator devices (else rotating random ids on few UAs)
    bot_bursts: int
    bot_burst_size: tuple[int, int]
    bot_burst_s: tuple[float, float]
    bot_fill_s: tuple[float, float]
    bot_spoofed_share: float
    bot_no_fill_share: float
    brush_rings: int
    brush_ring_size: tuple[int, int]
    brush_first_yuan: tuple[int, int]
    brush_refund_share: float
    coupon_groups: int
    coupon_group_size: tuple[int, int]
    coupon_devices: tuple[int, int]
    coupon_order_yuan: tuple[int, int]
    referral_cycles: int
    referral_cycle_size: tuple[int, int]
    referral_chains: int
    referral_chain_size: tuple[int, int]
    referral_branching: int  # 1: a chain; 2-3: a tree
    device_shapes: tuple[str, ...]
    emulator_shape: str
    ua_era: str


DEV = Params(
    half=0,
    campaigns=(
        Campaign("c-newuser-gift", WINDOW_START + timedelta(hours=9), 1.0, coupon=True),
        Campaign("c-warmup", WINDOW_START + timedelta(hours=10), 1.0),
        Campaign("c-double12", WINDOW_START + timedelta(hours=20), 2.2, hot=True),
        Campaign("c-livestream", WINDOW_START + timedelta(days=1, hours=19, minutes=30), 1.2, ships=True),
        Campaign("c-member-day", WINDOW_START + timedelta(days=2, hours=10), 1.0),
    ),
    datacentres=("aliyun", "tencent", "aws", "digitalocean"),
    register_fill_median=28.0,
    signup_fill_median=18.0,
    fill_sigma=0.55,
    fast_typist_share=0.08,
    fast_typist_s=(5.0, 8.0),
    opening_pull=0.35,
    opening_mean_s=900.0,
    gateway_pool=500,
    mobile_share=0.4,
    campus_count=2,
    campus_size=(55, 90),
    family_groups=70,
    family_size=(2, 3),
    family_shared_payer=0.3,
    virtual_members=140,
    rush_members=300,
    rush_fill_s=(3.0, 10.0),
    rush_gateways=10,
    retry_members=100,
    retry_attempts=(2, 3),
    retry_fill_s=(1.5, 3.0),
    retry_span_s=40.0,
    normal_members=2250,
    honest_orders=2000,
    pre_window_share=0.55,
    sms_batches=7,
    sms_batch_size=(20, 90),
    sms_span_min=(10.0, 60.0),
    sms_fill_s=(0.5, 2.5),
    sms_virtual_share=0.7,
    sms_emulator_share=0.7,
    bot_bursts=8,
    bot_burst_size=(25, 70),
    bot_burst_s=(10.0, 60.0),
    bot_fill_s=(0.2, 1.0),
    bot_spoofed_share=0.25,
    bot_no_fill_share=0.1,
    brush_rings=9,
    brush_ring_size=(5, 15),
    brush_first_yuan=(1, 5),
    brush_refund_share=0.7,
    coupon_groups=8,
    coupon_group_size=(15, 35),
    coupon_devices=(1, 2),
    coupon_order_yuan=(5, 25),
    referral_cycles=10,
    referral_cycle_size=(3, 5),
    referral_chains=6,
    referral_chain_size=(5, 15),
    referral_branching=1,
    device_shapes=("uuid", "uuid", "uuid", "idfa", "idfa"),
    emulator_shape="emu",
    ua_era="dev",
)

HOLDOUT = Params(
    half=1,
    campaigns=(
        Campaign("c-newbie-coupon", WINDOW_START + timedelta(hours=8), 1.0, coupon=True),
        Campaign("c-brand-week", WINDOW_START + timedelta(hours=14), 0.9),
        Campaign("c-night-market", WINDOW_START + timedelta(hours=21), 0.8),
        Campaign("c-vip-preview", WINDOW_START + timedelta(days=1, hours=9, minutes=30), 0.7, ships=True),
        Campaign("c-singles-flash", WINDOW_START + timedelta(days=1, hours=12), 2.5, hot=True),
        Campaign("c-live-drop", WINDOW_START + timedelta(days=2, hours=20), 1.1, ships=True),
    ),
    datacentres=("huawei", "gcp", "azure", "aliyun"),
    register_fill_median=40.0,
    signup_fill_median=26.0,
    fill_sigma=0.7,
    fast_typist_share=0.05,
    fast_typist_s=(6.0, 9.0),
    opening_pull=0.25,
    opening_mean_s=1500.0,
    gateway_pool=300,
    mobile_share=0.55,
    campus_count=2,
    campus_size=(70, 115),
    family_groups=50,
    family_size=(3, 4),
    family_shared_payer=0.5,
    virtual_members=135,
    rush_members=320,
    rush_fill_s=(4.0, 12.0),
    rush_gateways=6,
    retry_members=80,
    retry_attempts=(3, 4),
    retry_fill_s=(2.0, 4.0),
    retry_span_s=60.0,
    normal_members=2150,
    honest_orders=2100,
    pre_window_share=0.4,
    sms_batches=3,
    sms_batch_size=(80, 160),
    sms_span_min=(60.0, 360.0),
    sms_fill_s=(1.0, 4.0),
    sms_virtual_share=0.4,
    sms_emulator_share=0.4,
    bot_bursts=5,
    bot_burst_size=(50, 110),
    bot_burst_s=(60.0, 240.0),
    bot_fill_s=(0.6, 2.0),
    bot_spoofed_share=0.45,
    bot_no_fill_share=0.2,
    brush_rings=5,
    brush_ring_size=(12, 30),
    brush_first_yuan=(3, 10),
    brush_refund_share=0.5,
    coupon_groups=5,
    coupon_group_size=(30, 60),
    coupon_devices=(2, 4),
    coupon_order_yuan=(9, 39),
    referral_cycles=5,
    referral_cycle_size=(4, 8),
    referral_chains=4,
    referral_chain_size=(10, 25),
    referral_branching=3,
    device_shapes=("android_id", "android_id", "idfa", "oaid"),
    emulator_shape="vbox",
    ua_era="holdout",
)

PARAMS = {"dev": DEV, "holdout": HOLDOUT}

# --- addresses ---------------------------------------------------------------------------------------

PLACES = (
    ("广东省", "广州市", ("天河区", "海珠区", "白云区", "番禺区")),
    ("广东省", "深圳市", ("南山区", "福田区", "宝安区", "龙岗区")),
    ("浙江省", "杭州市", ("西湖区", "余杭区", "滨江区", "拱墅区")),
    ("江苏省", "南京市", ("鼓楼区", "玄武区", "江宁区")),
    ("江苏省", "苏州市", ("工业园区", "姑苏区", "吴中区")),
    ("上海市", "上海市", ("浦东新区", "闵行区", "徐汇区", "杨浦区")),
    ("北京市", "北京市", ("朝阳区", "海淀区", "丰台区", "通州区")),
    ("四川省", "成都市", ("武侯区", "锦江区", "成华区", "双流区")),
    ("湖北省", "武汉市", ("洪山区", "江汉区", "武昌区")),
    ("陕西省", "西安市", ("雁塔区", "未央区", "碑林区")),
    ("山东省", "济南市", ("历下区", "槐荫区", "市中区")),
    ("福建省", "厦门市", ("思明区", "湖里区")),
    ("湖南省", "长沙市", ("岳麓区", "芙蓉区", "雨花区")),
    ("河南省", "郑州市", ("金水区", "二七区", "中原区")),
)
ROADS = (
    "中山路",
    "人民路",
    "解放路",
    "建设路",
    "文化路",
    "科技园路",
    "学府路",
    "长江路",
    "和平街",
    "幸福路",
    "新华路",
    "青年路",
    "滨江大道",
    "东风路",
    "光明街",
    "花园路",
    "黄河路",
    "南京路",
)
ESTATES = (
    "阳光花园",
    "翠苑小区",
    "锦绣华庭",
    "碧桂园",
    "万科城",
    "金地名都",
    "保利香槟国际",
    "绿地新都会",
    "世纪城",
    "华润橡树湾",
    "龙湖春江郦城",
    "融创壹号院",
    "中海锦苑",
    "恒大名都",
    "",
)
CAMPUSES = (
    ("湖北省", "武汉市", "洪山区", "珞喻路", 1037, "华中科技大学紫菘公寓"),
    ("陕西省", "西安市", "碑林区", "咸宁西路", 28, "西安交通大学南洋公寓"),
    ("四川省", "成都市", "双流区", "川大路", 2, "四川大学江安校区西园"),
)
ID_REGIONS = (
    "440106",
    "440305",
    "330106",
    "320106",
    "310115",
    "110105",
    "510107",
    "420111",
    "610113",
    "370102",
    "350203",
    "430104",
    "410105",
    "320506",
)


@dataclass(frozen=True)
class Address:
    province: str
    city: str
    district: str
    road: str
    number: int
    estate: str
    building: int
    unit: int
    room: int


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def render_address(a: Address, rng: random.Random | None = None, variant: bool = False) -> str:
    """The address as a person types it; `variant` draws one of the spellings people use for the same place."""
    style = {"hao": "号", "bld": "栋", "room": "", "sep": "", "province": True, "short": False, "fw": False}
    if variant and rng is not None:
        for _ in range(rng.randint(1, 2)):
            kind = rng.choice(("hao", "bld", "room", "sep", "province", "short", "fw"))
            if kind == "hao":
                style["hao"] = "號"
            elif kind == "bld":
                style["bld"] = rng.choice(("幢", "号楼", "座"))
            elif kind == "room":
                style["room"] = "室"
            elif kind == "sep":
                style["sep"] = " "
            elif kind == "province":
                style["province"] = False
            elif kind == "short":
                style["short"] = True
            else:
                style["fw"] = True
    sep = style["sep"]
    head = a.city if a.province == a.city else (a.province + sep + a.city if style["province"] else a.city)
    street = f"{a.road}{a.number}{style['hao']}"
    if style["short"]:
        flat = f"{a.building}-{a.unit}-{a.room}"
    else:
        flat = f"{a.building}{style['bld']}{a.unit}单元{a.room}{style['room']}"
    text = sep.join(part for part in (head, a.district, street, a.estate, flat) if part)
    return text.translate(FULLWIDTH) if style["fw"] else text


# --- user agents -------------------------------------------------------------------------------------

ANDROID_MODELS = {
    "dev": ("V2134A", "PFJM10", "M2011K2C", "SM-G9910", "ELS-AN00", "22081212C", "RMX3366", "ANA-AN00"),
    "holdout": ("23049RAD8C", "PHB110", "V2309A", "SM-S9180", "ALN-AL00", "CPH2451", "2211133C", "LGE-AN10"),
}
IOS_VERSIONS = {
    "dev": ("16_5", "16_6_1", "16_7_2", "17_0_3", "17_1"),
    "holdout": ("17_4_1", "17_5", "17_6_1", "18_0", "18_1"),
}
CHROME = {"dev": (116, 120), "holdout": (124, 131)}
WECHAT = {"dev": (40, 44), "holdout": (49, 54)}
ANDROID_VERSIONS = {"dev": ("11", "12", "13"), "holdout": ("13", "14", "15")}


def browser_ua(rng: random.Random, era: str) -> tuple[str, str]:
    """A real-looking mobile browser UA and the channel it comes through."""
    kinds = ("ios_safari", "ios_wechat", "android_chrome", "android_wechat")
    if era == "holdout":
        kinds += ("huawei", "uc", "quark")
    kind = rng.choice(kinds)
    ios = rng.choice(IOS_VERSIONS[era])
    model = rng.choice(ANDROID_MODELS[era])
    android = rng.choice(ANDROID_VERSIONS[era])
    chrome = f"{rng.randint(*CHROME[era])}.0.{rng.randint(5000, 6800)}.{rng.randint(10, 199)}"
    wx = f"8.0.{rng.randint(*WECHAT[era])}"
    net = rng.choice(("WIFI", "4G", "5G"))
    safari_ver = ios.split("_")[0] + "." + (ios.split("_")[1] if "_" in ios else "0")
    ios_head = (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    )
    android_head = f"Mozilla/5.0 (Linux; Android {android}; {model} Build/{rng.choice(('TP1A', 'UKQ1', 'SKQ1', 'AP3A'))}.{rng.randint(220000, 240999)}.{rng.randint(1, 99):03d}; wv)"
    if kind == "ios_safari":
        return f"{ios_head} Version/{safari_ver} Mobile/15E148 Safari/604.1", "h5"
    if kind == "ios_wechat":
        return (
            f"{ios_head} Mobile/15E148 MicroMessenger/{wx}(0x1800{rng.randint(2000, 3999):04x}) NetType/{net} Language/zh_CN",
            "wechat",
        )
    if kind == "android_chrome":
        head = f"Mozilla/5.0 (Linux; Android {android}; {model})"
        return f"{head} AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome} Mobile Safari/537.36", "h5"
    if kind == "android_wechat":
        return (
            f"{android_head} AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{chrome} Mobile Safari/537.36 "
            f"XWEB/{rng.randint(1100000, 1300000)} MMWEBSDK/2023{rng.randint(1001, 1231)} MMWEBID/{rng.randint(1000, 9999)} "
            f"MicroMessenger/{wx}.{rng.randint(2400, 2600)}(0x28000{rng.randint(30, 39)}) WeChat/arm64 Weixin NetType/{net} "
            "Language/zh_CN ABI/arm64",
            "wechat",
        )
    if kind == "huawei":
        return (
            f"Mozilla/5.0 (Linux; Android {android}; HarmonyOS; {model}) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome} HuaweiBrowser/14.0.{rng.randint(1, 6)}.{rng.randint(300, 399)} Mobile Safari/537.36",
            "h5",
        )
    if kind == "uc":
        return (
            f"Mozilla/5.0 (Linux; U; Android {android}; zh-CN; {model}) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Version/4.0 Chrome/{chrome} UCBrowser/16.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(1000, 1999)} Mobile Safari/537.36",
            "h5",
        )
    return (
        f"Mozilla/5.0 (Linux; U; Android {android}; zh-cn; {model}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Version/4.0 Chrome/{chrome} Quark/7.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(500, 900)} Mobile Safari/537.36",
        "app",
    )


SCRIPT_UAS = {
    "dev": (
        "python-requests/2.31.0",
        "okhttp/4.9.3",
        "okhttp/3.12.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.6045.105 Safari/537.36",
    ),
    "holdout": (
        "curl/8.5.0",
        "Go-http-client/1.1",
        "python-httpx/0.27.0",
        "okhttp/4.12.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.6478.126 Safari/537.36",
    ),
}
# One UA copied from a real phone and sent by every request of a script.
SPOOFED_UA = {
    "dev": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2b) NetType/WIFI Language/zh_CN",
    "holdout": "Mozilla/5.0 (Linux; Android 14; 23049RAD8C) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.165 Mobile Safari/537.36",
}


# --- the generator -----------------------------------------------------------------------------------


@dataclass
class Person:
    id: str
    label: str
    family: str
    phone: str
    device: str
    ua: str
    channel: str
    home_ip: str
    payer: str
    address: Address | None
    identity: str | None
    registered_at: datetime
    invited_by: str = ""
    careful: bool = False
    campaigns: list[str] = field(default_factory=list)


class Sim:
    def __init__(self, seed: int, scale: float, variant: str):
        if variant not in PARAMS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
        self.rng = random.Random(f"{seed}:{variant}")
        self.p = PARAMS[variant]
        self.scale = scale
        self.variant = variant
        self.era = self.p.ua_era
        self.rows: list[tuple[datetime, int, dict]] = []
        self.ids: dict[str, set[str]] = {"member": set(), "signup": set(), "order": set()}
        self.used_phones: set[str] = set()
        self.honest: list[Person] = []
        self.gateways = [self.ip_in(self.rng.choice(MOBILE_GATEWAYS)) for _ in range(self.p.gateway_pool)]
        self.hot = next(c for c in self.p.campaigns if c.hot)
        self.coupon = next(c for c in self.p.campaigns if c.coupon)

    # -- small draws --

    def n(self, count: float) -> int:
        return max(1, round(count * self.scale))

    def span(self, bounds: tuple[float, float]) -> float:
        return self.rng.uniform(*bounds)

    def new_id(self, kind: str) -> str:
        prefix = {"member": "m", "signup": "s", "order": "o"}[kind]
        while True:
            value = f"{prefix}-{self.rng.getrandbits(48):012x}"
            if value not in self.ids[kind]:
                self.ids[kind].add(value)
                return value

    def ip_in(self, cidr: str) -> str:
        """A host in this variant's half of the block."""
        net = ipaddress.ip_network(cidr)
        half = net.num_addresses // 2
        return str(net.network_address + self.p.half * half + self.rng.randrange(256, half - 256))

    def residential_ip(self) -> str:
        return self.ip_in(self.rng.choice(RESIDENTIAL))

    def datacentre_ip(self) -> str:
        return self.ip_in(DATACENTRE[self.rng.choice(self.p.datacentres)])

    def block24(self, datacentre: bool = True) -> str:
        ip = self.datacentre_ip() if datacentre else self.residential_ip()
        return ip.rsplit(".", 1)[0]

    def gateway_ip(self) -> str:
        # Carrier NAT: a few gateways carry most sessions.
        return self.gateways[min(int(self.rng.paretovariate(1.2)) - 1, len(self.gateways) - 1)]

    def device_id(self, shape: str | None = None) -> str:
        shape = shape or self.rng.choice(self.p.device_shapes)
        bits = self.rng.getrandbits(128)
        hexed = f"{bits:032x}"
        uuid_like = f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-{'89ab'[bits % 4]}{hexed[17:20]}-{hexed[20:]}"
        if shape == "uuid":
            return uuid_like
        if shape == "idfa":
            return uuid_like.upper()
        if shape == "android_id":
            return hexed[:16]
        if shape == "oaid":
            return f"oaid:{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"
        if shape == "emu":
            return f"emu-{hexed[:4]}"
        if shape == "vbox":
            return f"vbox86p-{hexed[:6]}"
        raise ValueError(shape)

    def phone(self, prefixes: tuple[str, ...] = MOBILE_PREFIXES) -> str:
        while True:
            number = self.rng.choice(prefixes) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def shown_phone(self, number: str) -> str:
        """Some forms keep the country code people type."""
        return "+86" + number if self.rng.random() < 0.08 else number

    def payer(self) -> str:
        kind = self.rng.random()
        if kind < 0.6:
            return f"alipay:2088{self.rng.randrange(10**12):012d}"
        if kind < 0.92:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            return "wechat:o" + "".join(self.rng.choice(alphabet) for _ in range(27))
        return f"card:622848******{self.rng.randrange(10**4):04d}"

    def address(self) -> Address:
        province, city, districts = self.rng.choice(PLACES)
        return Address(
            province,
            city,
            self.rng.choice(districts),
            self.rng.choice(ROADS),
            self.rng.randint(1, 999),
            self.rng.choice(ESTATES),
            self.rng.randint(1, 32),
            self.rng.randint(1, 6),
            self.rng.randint(1, 33) * 100 + self.rng.randint(1, 6),
        )

    def identity(self) -> str:
        birth = datetime(1966, 1, 1) + timedelta(days=self.rng.randrange(365 * 40))
        body = f"{self.rng.choice(ID_REGIONS)}{birth:%Y%m%d}{self.rng.randrange(1000):03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
        return body + check

    def honest_fill(self, median_s: float) -> int:
        if self.rng.random() < self.p.fast_typist_share:
            return int(self.span(self.p.fast_typist_s) * 1000)
        value = self.rng.lognormvariate(math.log(median_s), self.p.fill_sigma)
        return int(max(2.6, min(value, 600.0)) * 1000)

    def careful_fill(self, median_s: float) -> int:
        return int(max(3.0, self.rng.lognormvariate(math.log(median_s), 0.5)) * 1000)

    def rhythm_time(self, start: datetime, end: datetime) -> datetime:
        """A moment in [start, end) with people's day/night rhythm: quiet at night, busy at noon and evening."""
        weights = (3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 8, 9, 8, 7, 7, 7, 7, 8, 9, 10, 10, 8, 5)
        seconds = max(1.0, (end - start).total_seconds())
        for _ in range(200):
            moment = start + timedelta(seconds=self.rng.uniform(0, seconds))
            if self.rng.random() * 10 < weights[moment.astimezone(CST).hour]:
                return moment
        return moment

    # -- records --

    def emit(self, kind: str, at: datetime, person: Person, body: dict, signals: dict) -> dict:
        record = {
            "type": kind,
            "id": person.id if kind == "member" else self.new_id(kind),
            "at": at.astimezone(CST).isoformat(timespec="milliseconds"),
            "signals": {k: v for k, v in signals.items() if v is not None},
            **body,
            "label": person.label,
            "family": person.family,
        }
        self.rows.append((at, {"member": 0, "signup": 1, "order": 2}[kind], record))
        return record

    def session(self, person: Person, *, ip: str | None = None, fill_ms: int | None = None, **over) -> dict:
        if ip is None:
            if person.label == "honest" and self.rng.random() < self.p.mobile_share:
                ip = self.gateway_ip()
            else:
                ip = person.home_ip
        return {
            "ip": ip,
            "device_id": over.get("device", person.device),
            "user_agent": over.get("ua", person.ua),
            "form_fill_ms": fill_ms,
            "channel": over.get("channel", person.channel),
        }

    def member(self, person: Person, fill_ms: int | None, **over) -> None:
        body = {"phone": self.shown_phone(person.phone)}
        if person.identity:
            body["identity_number"] = person.identity
        if person.address:
            body["address"] = over.pop("address", None) or render_address(person.address)
        if person.invited_by:
            body["invited_by"] = person.invited_by
        self.emit("member", person.registered_at, person, body, self.session(person, fill_ms=fill_ms, **over))

    def signup(self, person: Person, campaign: Campaign, at: datetime, fill_ms: int | None, **over) -> None:
        body: dict = {"member": person.id, "campaign": campaign.key}
        if campaign.ships and person.address:
            body["address"] = over.pop("address", None) or render_address(
                person.address, self.rng, variant=True
            )
        if person.identity and self.rng.random() < 0.3:
            body["answers"] = {"identity_number": person.identity}
        over.pop("address", None)
        person.campaigns.append(campaign.key)
        self.emit("signup", at, person, body, self.session(person, fill_ms=fill_ms, **over))

    def order(
        self,
        person: Person,
        at: datetime,
        amount_fen: int,
        *,
        refunded_fen: int | None = None,
        payer: str | None = None,
        address: str | None = None,
        **over,
    ) -> None:
        body: dict = {"member": person.id, "amount_fen": amount_fen, "payer": payer or person.payer}
        if address or person.address:
            body["address"] = address or render_address(
                person.address, self.rng, variant=self.rng.random() < 0.1
            )
        if refunded_fen:
            body["refunded_fen"] = refunded_fen
        self.emit("order", at, person, body, self.session(person, **over))

    # -- people --

    def person(self, label: str, family: str, registered_at: datetime, **kw) -> Person:
        ua, channel = kw.pop("ua_channel", None) or browser_ua(self.rng, self.era)
        values = {
            "phone": self.phone(),
            "device": self.device_id(),
            "home_ip": self.residential_ip(),
            "payer": self.payer(),
            "address": self.address(),
            "identity": self.identity() if self.rng.random() < 0.35 else None,
        }
        values.update(kw)
        return Person(
            id=self.new_id("member"),
            label=label,
            family=family,
            ua=ua,
            channel=channel,
            registered_at=registered_at,
            **values,
        )

    def honest_registration(self, before: datetime | None = None) -> datetime:
        if self.rng.random() < self.p.pre_window_share:
            return self.rhythm_time(WINDOW_START - timedelta(days=30), WINDOW_START)
        end = before or WINDOW_END - timedelta(hours=2)
        return self.rhythm_time(WINDOW_START, end) if end > WINDOW_START else end - timedelta(hours=2)

    def honest_signup_time(self, person: Person, campaign: Campaign) -> datetime:
        earliest = max(campaign.opens_at, person.registered_at + timedelta(seconds=30))
        if self.rng.random() < self.p.opening_pull * (1.5 if campaign.hot else 1.0):
            # The opening's pull; the hot campaign's first minute belongs to the rush family.
            floor = 60.0 if campaign.hot else 0.0
            at = campaign.opens_at + timedelta(
                seconds=floor + self.rng.expovariate(1 / self.p.opening_mean_s)
            )
            if at >= earliest:
                return at
        return self.rhythm_time(earliest, WINDOW_END)

    def pick_campaigns(self, k: int, exclude: tuple[str, ...] = ()) -> list[Campaign]:
        pool = [c for c in self.p.campaigns if c.key not in exclude]
        chosen: list[Campaign] = []
        while pool and len(chosen) < k:
            c = self.rng.choices(pool, weights=[c.weight for c in pool])[0]
            pool.remove(c)
            chosen.append(c)
        return chosen

    def honest_life(
        self,
        person: Person,
        *,
        signups: int | None = None,
        exclude: tuple[str, ...] = (),
        ip: str | None = None,
        register: bool = True,
    ) -> None:
        """Register (unless done), then sign up to a few campaigns at honest times."""
        if register:
            self.member(person, self.honest_fill(self.p.register_fill_median), ip=ip)
        if signups is None:
            signups = self.rng.choices((0, 1, 2, 3, 4, 5), weights=(12, 30, 27, 18, 9, 4))[0]
        for campaign in self.pick_campaigns(signups, exclude):
            at = self.honest_signup_time(person, campaign)
            self.signup(person, campaign, at, self.honest_fill(self.p.signup_fill_median), ip=ip)
        self.honest.append(person)

    def build_honest(self) -> None:
        p, rng = self.p, self.rng
        for _ in range(self.n(p.normal_members)):
            person = self.person("honest", "normal", self.honest_registration())
            if self.honest and rng.random() < 0.03:
                inviter = rng.choice(self.honest)
                if inviter.registered_at < person.registered_at - timedelta(minutes=5):
                    person.invited_by = inviter.id
            self.honest_life(person)

        # campus_nat: one university NAT address, distinct devices and phones, over hours, a few in the rush.
        for c in range(max(1, round(p.campus_count * min(1.0, self.scale * 2)))):
            province, city, district, road, number, estate = CAMPUSES[c % len(CAMPUSES)]
            nat_ip = self.residential_ip()
            for _ in range(self.n(rng.randint(*p.campus_size))):
                room = Address(
                    province,
                    city,
                    district,
                    road,
                    number,
                    estate,
                    rng.randint(1, 20),
                    1,
                    rng.randint(1, 6) * 100 + rng.randint(1, 30),
                )
                person = self.person(
                    "honest",
                    "campus_nat",
                    self.honest_registration(),
                    home_ip=nat_ip,
                    address=room,
                    identity=None,
                )
                self.member(person, self.honest_fill(p.register_fill_median), ip=nat_ip)
                chosen = self.pick_campaigns(rng.choices((1, 2, 3), weights=(4, 4, 2))[0])
                for campaign in chosen:
                    if campaign.hot and rng.random() < 0.25 and person.registered_at < campaign.opens_at:
                        at = campaign.opens_at + timedelta(seconds=rng.uniform(0.5, 59.0))
                        fill = int(self.span(p.rush_fill_s) * 1000)
                    else:
                        at = self.honest_signup_time(person, campaign)
                        fill = self.honest_fill(p.signup_fill_median)
                    self.signup(person, campaign, at, fill, ip=nat_ip)
                self.honest.append(person)

        # family_device: one tablet or parent's phone, one home IP, one home written several ways.
        for _ in range(self.n(p.family_groups)):
            device, home_ip, home = self.device_id(), self.residential_ip(), self.address()
            ua_channel = browser_ua(rng, self.era)
            shared_payer = self.payer() if rng.random() < p.family_shared_payer else None
            first = self.honest_registration()
            for i in range(rng.randint(*p.family_size)):
                person = self.person(
                    "honest",
                    "family_device",
                    first + timedelta(hours=rng.uniform(0, 40) * i),
                    device=device,
                    home_ip=home_ip,
                    address=home,
                    ua_channel=ua_channel,
                    payer=shared_payer or self.payer(),
                )
                variant = render_address(home, rng, variant=i > 0 and rng.random() < 0.8)
                self.member(person, self.honest_fill(p.register_fill_median), ip=home_ip, address=variant)
                for campaign in self.pick_campaigns(rng.choices((1, 2, 3), weights=(4, 4, 2))[0]):
                    at = self.honest_signup_time(person, campaign)
                    self.signup(
                        person,
                        campaign,
                        at,
                        self.honest_fill(p.signup_fill_median),
                        ip=home_ip,
                        address=render_address(home, rng, variant=rng.random() < 0.6),
                    )
                self.honest.append(person)

        # virtual_honest: an ordinary life on a virtual-operator number.
        for _ in range(self.n(p.virtual_members)):
            person = self.person(
                "honest", "virtual_honest", self.honest_registration(), phone=self.phone(VIRTUAL_PREFIXES)
            )
            self.honest_life(person)

        # rush: the hot campaign's first minute; prefilled forms, carrier NAT gateways shared by many.
        hot = self.hot
        rush_gateways = [self.ip_in(rng.choice(MOBILE_GATEWAYS)) for _ in range(p.rush_gateways)]
        for _ in range(self.n(p.rush_members)):
            person = self.person(
                "honest", "rush", self.honest_registration(before=hot.opens_at - timedelta(hours=1))
            )
            self.member(person, self.honest_fill(p.register_fill_median))
            # Arrivals peak in the first seconds and decay over the minute.
            at = hot.opens_at + timedelta(seconds=min(59.9, 0.3 + rng.expovariate(1 / 18.0)))
            ip = rng.choice(rush_gateways) if rng.random() < 0.45 else None
            self.signup(person, hot, at, int(self.span(p.rush_fill_s) * 1000), ip=ip)
            self.honest_life(
                person, signups=1 if rng.random() < 0.2 else 0, exclude=(hot.key,), register=False
            )

        # retry: a mistyped form sent again within a minute, same device and IP, each attempt its own record.
        for _ in range(self.n(p.retry_members)):
            person = self.person("honest", "retry", self.honest_registration())
            self.member(person, self.honest_fill(p.register_fill_median))
            campaign = self.pick_campaigns(1)[0]
            at = self.honest_signup_time(person, campaign)
            ip = self.gateway_ip() if rng.random() < p.mobile_share else person.home_ip
            self.signup(person, campaign, at, self.honest_fill(p.signup_fill_median), ip=ip)
            attempts = rng.randint(*p.retry_attempts)
            gaps = sorted(rng.uniform(3.0, p.retry_span_s) for _ in range(attempts - 1))
            for gap in gaps:
                self.signup(
                    person,
                    campaign,
                    at + timedelta(seconds=gap),
                    int(self.span(p.retry_fill_s) * 1000),
                    ip=ip,
                )
            self.honest_life(
                person, signups=1 if rng.random() < 0.3 else 0, exclude=(campaign.key,), register=False
            )

        self.honest_orders()

    def honest_orders(self) -> None:
        rng = self.rng
        buyers = [person for person in self.honest if person.registered_at < WINDOW_END - timedelta(hours=1)]
        weights = [rng.paretovariate(2.0) for _ in buyers]
        for _ in range(self.n(self.p.honest_orders)):
            person = rng.choices(buyers, weights=weights)[0]
            at = self.rhythm_time(max(WINDOW_START, person.registered_at + timedelta(minutes=2)), WINDOW_END)
            yuan = min(max(rng.lognormvariate(math.log(130), 0.8), 9.9), 4999.0)
            amount = int(round(yuan, 1) * 100)
            refunded = None
            if rng.random() < 0.05:
                refunded = amount if rng.random() < 0.6 else amount // rng.randint(2, 5)
            self.order(person, at, amount, refunded_fen=refunded)

    # -- fraud --

    def careful_group(self, index: int) -> bool:
        """About one group in five is careful: residential proxies, human timings, real-looking UAs."""
        return index % 5 == 2

    def fraud_person(self, family: str, at: datetime, careful: bool, **kw) -> Person:
        defaults = {"identity": None, "address": None}
        defaults.update(kw)
        person = self.person("fraud", family, at, **defaults)
        person.careful = careful
        return person

    def campaign_time(self, campaign: Campaign, after: datetime) -> datetime:
        start = max(after + timedelta(seconds=5), campaign.opens_at)
        return start + timedelta(seconds=self.rng.expovariate(1 / 1800.0))

    def build_sms_farm(self) -> None:
        p, rng = self.p, self.rng
        for b in range(self.n(p.sms_batches)):
            careful = self.careful_group(b)
            size = self.n(rng.randint(*p.sms_batch_size))
            start = self.rhythm_time(WINDOW_START - timedelta(hours=12), WINDOW_END - timedelta(hours=12))
            span_s = self.span(p.sms_span_min) * 60
            virtual = rng.random() < p.sms_virtual_share
            base = int(rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8 - 10**6):08d}")
            emulators = (b == 0 or rng.random() < p.sms_emulator_share) and not careful
            devices = [self.device_id(p.emulator_shape) for _ in range(rng.randint(2, 6))]
            uas = [browser_ua(rng, self.era) for _ in range(rng.randint(1, 3))]
            block = self.block24()
            dc_ips = [self.datacentre_ip() for _ in range(rng.randint(1, 4))]
            times = sorted(start + timedelta(seconds=rng.uniform(0, span_s)) for _ in range(size))
            for at in times:
                if virtual:
                    phone = self.phone(VIRTUAL_PREFIXES)
                else:
                    base += rng.choice((1, 1, 1, 2, 3))
                    phone = str(base)
                    self.used_phones.add(phone)
                ua, channel = rng.choice(uas) if not careful else browser_ua(rng, self.era)
                if careful:
                    device, ip = self.device_id(), self.residential_ip()
                elif emulators:
                    device, ip = rng.choice(devices), rng.choice(dc_ips)
                else:
                    device = self.device_id()
                    ip = f"{block}.{rng.randint(2, 254)}" if rng.random() < 0.5 else rng.choice(dc_ips)
                person = self.fraud_person(
                    "sms_farm", at, careful, phone=phone, device=device, home_ip=ip, ua_channel=(ua, channel)
                )
                fill = (
                    self.careful_fill(p.register_fill_median)
                    if careful
                    else int(self.span(p.sms_fill_s) * 1000)
                )
                self.member(person, fill)
                count = rng.choices((1, 2, 3), weights=(5, 3, 2))[0]
                for campaign in self.pick_campaigns(count):
                    when = self.campaign_time(campaign, at)
                    if when >= WINDOW_END:
                        continue
                    fill = (
                        self.careful_fill(p.signup_fill_median)
                        if careful
                        else int(self.span(p.sms_fill_s) * 1000)
                    )
                    self.signup(person, campaign, when, fill)

    def build_bot_signup(self) -> None:
        p, rng = self.p, self.rng
        targets = [c for c in p.campaigns if not c.coupon]
        for b in range(self.n(p.bot_bursts)):
            careful = self.careful_group(b)
            campaign = self.hot if b % 2 == 0 else rng.choice(targets)
            size = self.n(rng.randint(*p.bot_burst_size))
            block = self.block24(datacentre=not careful)
            spoofed = rng.random() < p.bot_spoofed_share
            script_ua = SPOOFED_UA[self.era] if spoofed else rng.choice(SCRIPT_UAS[self.era])
            no_fill = rng.random() < p.bot_no_fill_share and not careful
            registered = campaign.opens_at - timedelta(hours=rng.uniform(2, 30))
            reg_span = rng.uniform(300, 3600)
            # The burst fires at the opening (or a few minutes later, when the script is restarted).
            burst_at = campaign.opens_at + timedelta(seconds=rng.choice((0.2, 0.5, 1.0, 90.0, 600.0)))
            burst_s = self.span(p.bot_burst_s)
            for _ in range(size):
                ip = f"{block}.{rng.randint(2, 254)}"
                if careful:
                    ua_channel = browser_ua(rng, self.era)
                    reg_at = registered - timedelta(days=rng.uniform(0, 20))
                    reg_fill, fill = (
                        self.careful_fill(p.register_fill_median),
                        self.careful_fill(p.signup_fill_median),
                    )
                else:
                    ua_channel = (script_ua, "h5" if not spoofed else "wechat")
                    reg_at = registered + timedelta(seconds=rng.uniform(0, reg_span))
                    reg_fill = None if no_fill else int(self.span(p.bot_fill_s) * 1000)
                    fill = None if no_fill else int(self.span(p.bot_fill_s) * 1000)
                person = self.fraud_person(
                    "bot_signup",
                    reg_at,
                    careful,
                    phone=self.phone(),
                    device=self.device_id(),
                    home_ip=ip,
                    ua_channel=ua_channel,
                )
                self.member(person, reg_fill, ip=f"{block}.{rng.randint(2, 254)}")
                at = burst_at + timedelta(seconds=rng.uniform(0, burst_s))
                self.signup(
                    person,
                    campaign,
                    at,
                    fill,
                    ip=ip,
                    device=self.device_id() if not careful else person.device,
                )

    def ring_address(self, base: Address, rooms: bool) -> str:
        a = base
        if rooms:
            a = Address(*[*list(vars(base).values())[:-1], base.room + self.rng.randint(-3, 12)])
        return render_address(a, self.rng, variant=self.rng.random() < 0.7)

    def build_brushing(self) -> None:
        p, rng = self.p, self.rng
        for r in range(self.n(p.brush_rings)):
            careful = self.careful_group(r)
            size = rng.randint(*p.brush_ring_size)
            payers = [self.payer() for _ in range(rng.randint(1, 3) if not careful else max(2, size // 2))]
            home = self.address()
            # A studio's few phones, each with its own browser.
            phones = [(self.device_id(), browser_ua(rng, self.era)) for _ in range(rng.randint(2, 4))]
            studio_ip = self.residential_ip() if careful or rng.random() < 0.5 else self.datacentre_ip()
            start = self.rhythm_time(WINDOW_START - timedelta(hours=12), WINDOW_END - timedelta(hours=30))
            members = []
            for i in range(size):
                at = start + timedelta(minutes=rng.uniform(0, 90 if not careful else 900))
                device, ua_channel = (
                    (self.device_id(), browser_ua(rng, self.era)) if careful else rng.choice(phones)
                )
                person = self.fraud_person(
                    "brushing",
                    at,
                    careful,
                    address=home,
                    device=device,
                    ua_channel=ua_channel,
                    home_ip=self.residential_ip() if careful else studio_ip,
                    payer=payers[i % len(payers)],
                )
                fill = (
                    self.careful_fill(p.register_fill_median)
                    if careful
                    else int(rng.uniform(1.5, 6.0) * 1000)
                )
                self.member(person, fill, address=self.ring_address(home, False))
                members.append(person)
            # Chains: each account's first order is small; the ring walks through its accounts minutes apart.
            at = max(WINDOW_START, *(m.registered_at for m in members)) + timedelta(
                minutes=rng.uniform(10, 240)
            )
            for rounds in range(rng.randint(1, 3)):
                for person in rng.sample(members, len(members)):
                    at += timedelta(seconds=rng.uniform(30, 400 if not careful else 3000))
                    if at >= WINDOW_END:
                        break
                    if rounds == 0:
                        yuan = rng.randint(*p.brush_first_yuan) - rng.choice((0, 0.01, 0.1))
                        if careful and rng.random() < 0.4:
                            yuan = rng.choice((12.8, 15.9, 19.9))
                    else:
                        yuan = rng.choice((1, 2, 5, 9.9, 39, 69, 129, 199))
                    amount = round(yuan * 100)
                    refunded = amount if rng.random() < p.brush_refund_share else None
                    self.order(
                        person, at, amount, refunded_fen=refunded, address=self.ring_address(home, False)
                    )
            for person in members:
                if rng.random() < 0.5:
                    campaign = self.pick_campaigns(1)[0]
                    when = self.campaign_time(campaign, person.registered_at)
                    if when < WINDOW_END:
                        fill = (
                            self.careful_fill(p.signup_fill_median)
                            if careful
                            else int(rng.uniform(1.0, 5.0) * 1000)
                        )
                        self.signup(person, campaign, when, fill)

    def build_coupon_abuse(self) -> None:
        p, rng = self.p, self.rng
        campaign = self.coupon
        for g in range(self.n(p.coupon_groups)):
            careful = self.careful_group(g)
            size = rng.randint(*p.coupon_group_size)
            devices = [self.device_id() for _ in range(rng.randint(*p.coupon_devices))]
            ua_channel = browser_ua(rng, self.era)
            home = self.address()
            payers = [self.payer() for _ in range(rng.randint(1, 3))]
            ip = self.residential_ip() if rng.random() < 0.6 else self.gateway_ip()
            start = max(campaign.opens_at, self.rhythm_time(WINDOW_START, WINDOW_END - timedelta(hours=20)))
            at = start
            for _ in range(size):
                at += timedelta(seconds=rng.uniform(20, 240) if not careful else rng.uniform(600, 5400))
                person = self.fraud_person(
                    "coupon_abuse",
                    at,
                    careful,
                    address=home,
                    device=self.device_id() if careful else rng.choice(devices),
                    home_ip=self.residential_ip() if careful else ip,
                    payer=self.payer() if careful else rng.choice(payers),
                    ua_channel=browser_ua(rng, self.era) if careful else ua_channel,
                )
                fast = int(rng.uniform(2.0, 7.0) * 1000)
                self.member(
                    person,
                    self.careful_fill(p.register_fill_median) if careful else fast,
                    address=self.ring_address(home, True),
                )
                claim_at = at + timedelta(seconds=rng.uniform(5, 90))
                fill = (
                    self.careful_fill(p.signup_fill_median) if careful else int(rng.uniform(1.0, 4.0) * 1000)
                )
                self.signup(person, campaign, claim_at, fill)
                if rng.random() < 0.85:
                    order_at = claim_at + timedelta(seconds=rng.uniform(30, 1800))
                    amount = int(rng.uniform(*p.coupon_order_yuan) * 10) * 10
                    self.order(person, order_at, amount, address=self.ring_address(home, True))

    def build_referral_abuse(self) -> None:
        p, rng = self.p, self.rng

        def invitee_life(person: Person, careful: bool) -> None:
            if rng.random() < 0.6:
                campaign = self.pick_campaigns(1)[0]
                when = self.campaign_time(campaign, person.registered_at)
                if when < WINDOW_END:
                    fill = (
                        self.careful_fill(p.signup_fill_median)
                        if careful
                        else int(rng.uniform(1.0, 5.0) * 1000)
                    )
                    self.signup(person, campaign, when, fill)
            if rng.random() < 0.35:
                when = max(WINDOW_START, person.registered_at) + timedelta(minutes=rng.uniform(5, 600))
                if when < WINDOW_END:
                    self.order(person, when, rng.choice((100, 199, 290, 500, 990)))

        def new(at: datetime, careful: bool, device: str, ip: str, ua_channel: tuple[str, str]) -> Person:
            return self.fraud_person(
                "referral_abuse",
                at,
                careful,
                phone=self.phone(VIRTUAL_PREFIXES if rng.random() < 0.4 else MOBILE_PREFIXES),
                device=self.device_id() if careful else device,
                home_ip=self.residential_ip() if careful else ip,
                ua_channel=browser_ua(rng, self.era) if careful else ua_channel,
            )

        groups = 0
        # Cycles: A invites B invites C invites A (the first account names the last as its inviter).
        for _ in range(self.n(p.referral_cycles)):
            careful = self.careful_group(groups)
            groups += 1
            device, ip, ua_channel = self.device_id(), self.residential_ip(), browser_ua(rng, self.era)
            at = self.rhythm_time(WINDOW_START - timedelta(days=1), WINDOW_END - timedelta(hours=36))
            ring = []
            for _ in range(rng.randint(*p.referral_cycle_size)):
                at += timedelta(seconds=rng.uniform(40, 600) if not careful else rng.uniform(3600, 14400))
                person = new(at, careful, device, ip, ua_channel)
                person.invited_by = ring[-1].id if ring else ""
                ring.append(person)
            ring[0].invited_by = ring[-1].id
            for person in ring:
                fill = (
                    self.careful_fill(p.register_fill_median)
                    if careful
                    else int(rng.uniform(1.5, 6.0) * 1000)
                )
                self.member(person, fill)
                invitee_life(person, careful)

        # One device registering a chain (dev) or a tree (holdout) of invitees under one inviter.
        for _ in range(self.n(p.referral_chains)):
            careful = self.careful_group(groups)
            groups += 1
            device, ip, ua_channel = self.device_id(), self.residential_ip(), browser_ua(rng, self.era)
            at = self.rhythm_time(WINDOW_START - timedelta(days=2), WINDOW_END - timedelta(hours=30))
            root = new(at, careful, device, ip, ua_channel)
            self.member(root, self.careful_fill(p.register_fill_median))
            frontier = [root]
            for _ in range(rng.randint(*p.referral_chain_size)):
                inviter = frontier[0]
                at += timedelta(seconds=rng.uniform(30, 400) if not careful else rng.uniform(900, 5400))
                person = new(at, careful, device, ip, ua_channel)
                person.invited_by = inviter.id
                fill = (
                    self.careful_fill(p.register_fill_median)
                    if careful
                    else int(rng.uniform(1.5, 6.0) * 1000)
                )
                self.member(person, fill)
                invitee_life(person, careful)
                frontier.append(person)
                if len(frontier) > p.referral_branching:
                    frontier.pop(0)

    # -- all --

    def build(self) -> list[dict]:
        self.build_honest()
        self.build_sms_farm()
        self.build_bot_signup()
        self.build_brushing()
        self.build_coupon_abuse()
        self.build_referral_abuse()
        # Activity outside the window is cut (registrations may precede it: members have an age).
        kept = [row for row in self.rows if row[0] < WINDOW_END and (row[1] == 0 or row[0] >= WINDOW_START)]
        kept.sort(key=lambda row: (row[0], row[1]))
        members = {record["id"] for _, kind, record in kept if kind == 0}
        for _, _, record in kept:
            if record.get("invited_by") and record["invited_by"] not in members:
                del record["invited_by"]  # the inviter would have registered after the window
        return [record for _, _, record in kept]


def generate(seed: int, *, scale: float = 1.0, variant: str = "dev") -> list[dict]:
    """Labelled member, sign-up and order records, sorted by `at`; the same seed gives the same records."""
    return Sim(seed, scale, variant).build()


FILES = {"member": "members.jsonl", "signup": "signups.jsonl", "order": "orders.jsonl"}


def write(records: list[dict], directory: str | Path) -> dict[str, Path]:
    """Write the records as the backtest reads them: one JSONL file per type, each in order of `at`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / name for kind, name in FILES.items()}
    handles = {kind: path.open("w", encoding="utf-8") for kind, path in paths.items()}
    try:
        for record in records:
            handles[record["type"]].write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        for handle in handles.values():
            handle.close()
    return paths


def summary(records: list[dict]) -> str:
    counts = Counter((r["type"], r["label"], r["family"]) for r in records)
    lines = [f"{'type':8} {'label':7} {'family':16} {'count':>6}"]
    for (kind, label, family), count in sorted(counts.items()):
        lines.append(f"{kind:8} {label:7} {family:16} {count:>6}")
    for kind in FILES:
        total = sum(v for (k, _, _), v in counts.items() if k == kind)
        fraud = sum(v for (k, label, _), v in counts.items() if k == kind and label == "fraud")
        lines.append(f"{kind:8} total {total:>6}, fraud {fraud:>5} ({fraud / max(total, 1):.1%})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory for members/signups/orders.jsonl")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--variant", choices=VARIANTS, default="dev")
    args = parser.parse_args(argv)
    records = generate(args.seed, scale=args.scale, variant=args.variant)
    write(records, args.out)
    print(summary(records))


if __name__ == "__main__":
    main()
