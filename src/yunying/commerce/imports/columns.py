"""The columns an import file may have, by the names operators use (Chinese or English), documented
in docs/import.md; the template files the console offers are built from the first name of each.

Header cells match a column when they equal one of its names after trimming, lower-casing, dropping
spaces and turning full-width brackets into ASCII ones: "单价（元）" and "Unit_Price_Yuan" both match.
Unknown columns are ignored (a report re-uploaded with its extra columns still reads)."""

from __future__ import annotations

from dataclasses import dataclass

from yunying.commerce.imports.errors import ImportError_, ImportFailed


@dataclass(frozen=True)
class Column:
    key: str
    names: tuple[str, ...]  # the first is the template's
    example: str


MEMBER_COLUMNS = (
    Column("phone", ("手机号", "手机", "手机号码", "phone", "mobile"), "13800138000"),
    Column("external_id", ("会员编号", "外部编号", "external_id", "member_id"), "M0001"),
    Column("name", ("姓名", "name"), "张三"),
    Column("gender", ("性别", "gender"), "女"),
    Column("birth_date", ("出生日期", "生日", "birth_date", "birthday"), "1990-05-20"),
    Column("region_code", ("地区代码", "地区", "region_code", "region"), "310100"),
    Column("source_channel", ("来源渠道", "渠道", "source_channel", "channel"), "miniprogram"),
)

ORDER_COLUMNS = (
    Column("order_id", ("订单号", "订单编号", "order_id", "external_id"), "SO-20261111-0001"),
    Column("member_phone", ("会员手机号", "手机号", "member_phone", "phone"), "13800138000"),
    Column("member_external_id", ("会员编号", "member_external_id", "member_id"), ""),
    Column("paid_at", ("支付时间", "付款时间", "paid_at"), "2026-11-11 10:00:00"),
    Column("channel", ("渠道", "channel"), "app"),
    Column("sku", ("商品编码", "sku"), "TEA-1"),
    Column("category", ("品类", "类目", "category"), "tea"),
    Column("unit_price_yuan", ("单价(元)", "单价", "unit_price_yuan"), "50.00"),
    Column("unit_price_fen", ("单价(分)", "unit_price_fen"), ""),
    Column("quantity", ("数量", "quantity"), "2"),
    Column("paid_yuan", ("实付(元)", "实付金额", "paid_yuan"), "90.00"),
    Column("paid_fen", ("实付(分)", "paid_fen"), ""),
    Column("coupon_refs", ("优惠券", "coupon_refs", "coupons"), "C100"),
    Column("campaign_id", ("活动编号", "campaign_id"), ""),
)

# Each tuple: one of these columns must be present.
MEMBER_REQUIRED = (("phone", "external_id"),)
ORDER_REQUIRED = (
    ("order_id",),
    ("member_phone", "member_external_id"),
    ("paid_at",),
    ("sku",),
    ("unit_price_yuan", "unit_price_fen"),
    ("quantity",),
    ("paid_yuan", "paid_fen"),
)

COLUMNS = {"members": MEMBER_COLUMNS, "orders": ORDER_COLUMNS}
REQUIRED = {"members": MEMBER_REQUIRED, "orders": ORDER_REQUIRED}


def normalise_name(text: str) -> str:
    return str(text).strip().lower().replace(" ", "").replace("（", "(").replace("）", ")")


def header_map(kind: str, header: list[str]) -> dict[str, int]:
    """Column key -> index of its cell in each row.

    Raises: import.header_missing (with the missing columns' template names), import.header_duplicate."""
    by_name = {normalise_name(name): column.key for column in COLUMNS[kind] for name in column.names}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = by_name.get(normalise_name(cell))
        if key is None:
            continue
        if key in found:
            raise ImportFailed(ImportError_.HEADER_DUPLICATE, column=str(cell))
        found[key] = index
    names = {column.key: column.names[0] for column in COLUMNS[kind]}
    missing = [
        " / ".join(names[key] for key in keys) for keys in REQUIRED[kind] if not any(k in found for k in keys)
    ]
    if missing:
        raise ImportFailed(ImportError_.HEADER_MISSING, missing=missing)
    return found


def template_rows(kind: str) -> list[list[str]]:
    """The template: the header (first names) and one example row."""
    columns = COLUMNS[kind]
    return [[column.names[0] for column in columns], [column.example for column in columns]]
