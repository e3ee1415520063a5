"""GB/T 2260 administrative division codes: six digits, province = first two.

The full national list has ~3,000 entries and changes yearly; we ship the provinces (which every
valid code must start with) and the larger cities, enough to validate input, group statistics by
province and label reports. A code is valid when it is six digits under a known province.
"""

from __future__ import annotations

PROVINCES: dict[str, str] = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省", "150000": "内蒙古自治区",
    "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省", "310000": "上海市", "320000": "江苏省",
    "330000": "浙江省", "340000": "安徽省", "350000": "福建省", "360000": "江西省", "370000": "山东省",
    "410000": "河南省", "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省", "530000": "云南省",
    "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省", "630000": "青海省", "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区", "710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区",
}  # fmt: skip

CITIES: dict[str, str] = {
    "110100": "北京市", "310100": "上海市", "120100": "天津市", "500100": "重庆市",
    "440100": "广州市", "440300": "深圳市", "440600": "佛山市", "441900": "东莞市",
    "330100": "杭州市", "330200": "宁波市", "320100": "南京市", "320500": "苏州市",
    "510100": "成都市", "420100": "武汉市", "610100": "西安市", "430100": "长沙市",
    "370100": "济南市", "370200": "青岛市", "350100": "福州市", "350200": "厦门市",
    "410100": "郑州市", "340100": "合肥市", "210100": "沈阳市", "210200": "大连市",
    "530100": "昆明市", "360100": "南昌市", "450100": "南宁市", "130100": "石家庄市",
    "230100": "哈尔滨市", "220100": "长春市", "520100": "贵阳市", "140100": "太原市",
}  # fmt: skip


def province_of(code: str) -> str:
    return code[:2] + "0000"


def is_valid_region(code: str) -> bool:
    # str.isdigit() alone accepts full-width and superscript digits ("44０３００").
    return len(code) == 6 and code.isascii() and code.isdigit() and province_of(code) in PROVINCES


def region_matches(code: str, pattern: str) -> bool:
    """Does `code` fall under `pattern`? 440000 covers Guangdong, 440300 Shenzhen, 440305 only itself."""
    if pattern.endswith("0000"):
        return code[:2] == pattern[:2]
    if pattern.endswith("00"):
        return code[:4] == pattern[:4]
    return code == pattern


def region_label(code: str) -> str:
    return CITIES.get(code[:4] + "00") or PROVINCES.get(province_of(code), code)
