"""The campaign report (counts, participation rate, charts) and the CSV / XLSX export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.console.campaign_data import campaign_with_signups
from yunying.campaigns.models import Signup
from yunying.core.models import Alert, AuditEntry, PersonalDataAccess
from yunying.core.permissions import Role
from yunying.privacy.models import ExportApproval


def url(campaign) -> str:
    return f"/console/campaigns/{campaign.pk}/report/"


def _chart(html: str, chart_id: str) -> dict:
    marker = f'<script id="{chart_id}" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def test_the_report_counts_rate_and_charts(console_as):
    # given: 4 confirmed, one of them checked in
    campaign = campaign_with_signups(4)
    # (helper C's attendance service will set this; the report reads the field)
    Signup.objects.filter(pk=Signup.objects.filter(campaign=campaign).first().pk).update(
        attended_at=timezone.now()
    )
    # when
    response = console_as(Role.EXECUTION).get(url(campaign))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="participation-rate">25.0%<' in html
    channel = {d["name"]: d["value"] for d in _chart(html, "chart-channel")["series"][0]["data"]}
    assert channel == {"H5": 2, "APP": 2}
    gender = {d["name"]: d["value"] for d in _chart(html, "chart-gender")["series"][0]["data"]}
    assert sum(gender.values()) == 4 and "male" not in gender
    region = _chart(html, "chart-region")
    assert set(region["yAxis"]["data"]) == {"上海市", "广东省"}  # names, not codes
    assert sum(_chart(html, "chart-age")["series"][0]["data"]) == 4
    assert "/export.csv" in html and "/export.xlsx" in html


def test_no_confirmed_sign_up_means_no_rate_rather_than_a_division_by_zero(console_as):
    html = console_as(Role.EXECUTION).get(url(campaign_with_signups(0))).content.decode()
    assert 'id="participation-rate">—<' in html


def test_the_report_in_english(console_as):
    client = console_as(Role.EXECUTION)
    client.cookies["django_language"] = "en"
    html = client.get(url(campaign_with_signups(1))).content.decode()
    assert "Participation rate" in html and "Confirmed" in html


def test_csv_export_is_masked_with_labels(console_as):
    campaign = campaign_with_signups(2)
    response = console_as(Role.EXECUTION).get(f"/console/campaigns/{campaign.pk}/export.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "139****0000" in text and "13900000000" not in text
    assert "已确认" in text and "confirmed" not in text
    assert "上海市" in text
    assert AuditEntry.objects.filter(action="signup.export").count() == 1
    assert not PersonalDataAccess.objects.exists()


def test_xlsx_export_opens_with_openpyxl(console_as):
    campaign = campaign_with_signups(2)
    response = console_as(Role.EXECUTION).get(f"/console/campaigns/{campaign.pk}/export/", {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert len(rows) == 3
    assert "139****0001" in rows[2] or "139****0000" in rows[1]


def test_a_revealed_export_needs_bulk_permission_and_a_purpose(console_as):
    campaign = campaign_with_signups(2)
    export = f"/console/campaigns/{campaign.pk}/export/"
    # support may reveal one member, not a whole campaign
    assert (
        console_as(Role.SUPPORT).post(export, {"reveal": "on", "purpose": "prize_delivery"}).status_code
        == 403
    )
    strategy = console_as(Role.STRATEGY)
    refused = strategy.post(export, {"reveal": "on", "purpose": ""})
    assert refused.status_code == 400 and not PersonalDataAccess.objects.exists()
    # a GET cannot reveal
    assert strategy.get(export, {"reveal": "on", "purpose": "prize_delivery"}).status_code == 400
    # when: the form asks for an approval (two-person rule), nothing is revealed yet
    asked = strategy.post(export, {"reveal": "on", "purpose": "prize_delivery", "format": "csv"})
    assert asked.status_code == 302 and asked["Location"] == "/console/audit/exports/"
    approval = ExportApproval.objects.get()
    assert not PersonalDataAccess.objects.exists()
    # and the requester cannot download before a second operator approves
    form = {"reveal": "on", "approval": approval.pk, "format": "csv"}
    assert strategy.post(export, form).status_code == 403
    from django.test import Client

    from tests.console.conftest import make_operator, sign_in

    second = Client()
    sign_in(second, make_operator(Role.STRATEGY, username="second-strategist", with_totp=True))
    assert second.post(f"/console/audit/exports/{approval.pk}/approve/").status_code == 302
    response = strategy.post(export, form)
    # then
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "13900000000" in text
    first = next(csv.reader(io.StringIO(text)))[0]
    assert (
        first.startswith("# ")
        and "导出人 op-strategy，审批人 second-strategist" in first
        and f"#{approval.pk}" in first
    )
    assert PersonalDataAccess.objects.count() == 2
    assert Alert.objects.filter(code="pii.bulk_reveal").count() == 1
    # and once only
    assert strategy.post(export, form).status_code == 403


@pytest.mark.parametrize("query", [{"format": "pdf"}, {"status": "nonsense"}], ids=["format", "status"])
def test_bad_export_input_is_a_400_page(console_as, query):
    campaign = campaign_with_signups(1)
    response = console_as(Role.EXECUTION).get(f"/console/campaigns/{campaign.pk}/export/", query)
    assert response.status_code == 400
    assert "<h1" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (Role.AUDITOR, "report/", 403),
        (Role.AUDITOR, "export.csv", 403),
        (Role.SUPPORT, "export.csv", 403),  # support has no signup.export
        (Role.SUPPORT, "report/", 200),
    ],
)
def test_permissions(console_as, role, path, status):
    campaign = campaign_with_signups(1)
    assert console_as(role).get(f"/console/campaigns/{campaign.pk}/{path}").status_code == status


def test_support_sees_no_export_links(console_as):
    html = console_as(Role.SUPPORT).get(url(campaign_with_signups(1))).content.decode()
    assert "export.csv" not in html


def test_unknown_campaign_is_a_404_page(console_as):
    client = console_as(Role.EXECUTION)
    assert client.get("/console/campaigns/424242/report/").status_code == 404
    assert client.get(f"/console/campaigns/{2**64}/export.csv").status_code == 404


def test_an_empty_campaign_exports_headers_only(console_as):
    campaign = campaign_with_signups(0)
    response = console_as(Role.EXECUTION).get(f"/console/campaigns/{campaign.pk}/export.xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert len(rows) == 1 and "手机号" in rows[0]
