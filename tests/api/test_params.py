"""Every int path and query parameter is bounded: an id past 64 bits or a huge page is a 422 naming
the parameter, never a 500 from the database driver (SQLite and PostgreSQL)."""

import pytest

from tests.api.helpers import assert_problem, campaign_payload, campaigns_url, signups_url
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile

HUGE = str(2**63)  # one past BigAutoField
HUGER = "9" * 40


@pytest.mark.parametrize("value", [HUGE, HUGER])
@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("get", "/api/v1/campaigns/{v}", "campaign_id"),
        ("patch", "/api/v1/campaigns/{v}", "campaign_id"),
        ("post", "/api/v1/campaigns/{v}/publish", "campaign_id"),
        ("get", "/api/v1/campaigns/{v}/stats", "campaign_id"),
        ("get", "/api/v1/campaigns/{v}/draw", "campaign_id"),
        ("get", "/api/v1/campaigns/{v}/signups", "campaign_id"),
        ("get", "/api/v1/campaigns/{v}/signups/export", "campaign_id"),
        ("post", "/api/v1/campaigns/{v}/signups", "campaign_id"),
        ("get", "/api/v1/campaigns/{c}/signups/{v}", "signup_id"),
        ("post", "/api/v1/campaigns/{c}/signups/{v}/withdraw", "signup_id"),
        ("post", "/api/v1/campaigns/{c}/signups/{v}/confirm", "signup_id"),
        ("post", "/api/v1/campaigns/{v}/copy", "campaign_id"),
        ("delete", "/api/v1/campaigns/{v}", "campaign_id"),
        ("post", "/api/v1/campaigns/{v}/extend", "campaign_id"),
        ("post", "/api/v1/campaigns/{v}/signups/status", "campaign_id"),
        ("patch", "/api/v1/members/{v}", "member_id"),
    ],
)
def test_an_id_past_64_bits_is_a_422_naming_it(api, open_campaign, method, path, field, value):
    # when
    url = path.format(v=value, c=open_campaign.pk)
    response = api.get(url) if method == "get" else getattr(api, method)(url, "{}", "application/json")
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert field in [e["field"] for e in body["errors"]]


@pytest.mark.parametrize(
    "query", [f"page={HUGE}", f"page={HUGER}", "page=10000001", "page_size=101", "page=0"]
)
@pytest.mark.parametrize("which", ["campaigns", "signups", "audit"])
def test_a_page_out_of_range_is_a_422_naming_it(api, open_campaign, query, which):
    # given
    urls = {"campaigns": campaigns_url(), "signups": signups_url(open_campaign.pk), "audit": "/api/v1/audit"}
    url = urls[which]
    # when
    response = api.get(f"{url}?{query}")
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == [query.split("=")[0]]


def test_the_last_allowed_page_is_empty_not_an_error(api, open_campaign):
    # given
    sign_up(open_campaign, mobile(1))
    # when
    response = api.get(f"{signups_url(open_campaign.pk)}?page=10000000&page_size=100")
    # then
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 1}


def test_page_size_chooses_the_page_length(api, open_campaign):
    # given
    for n in range(3):
        sign_up(open_campaign, mobile(n))
    # when
    response = api.get(f"{signups_url(open_campaign.pk)}?page=2&page_size=2")
    # then
    assert len(response.json()["items"]) == 1


def test_every_integer_path_parameter_of_the_api_is_bounded():
    """The class, not the instances above: every integer in a path, on every operation the API has
    now or gets later, carries a maximum the database can store."""
    from yunying.api import api

    unbounded = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                integer_in_path = parameter["in"] == "path" and schema.get("type") == "integer"
                if integer_in_path and schema.get("maximum", float("inf")) > 2**63 - 1:
                    unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []


@pytest.mark.parametrize("value", [0, "0", 0.5, "1700000000", True])
@pytest.mark.parametrize(
    ("where", "field"),
    [("body", "signup_start_at"), ("query", "date_to"), ("signup", "member.birth_date")],
)
def test_dates_and_instants_are_iso_text_not_numbers(api, open_campaign, value, where, field):
    # given: pydantic alone read 0 as 1970-01-01
    if where == "body":
        response = api.post_json(campaigns_url(), campaign_payload(signup_start_at=value))
    elif where == "query":
        response = api.get(campaigns_url(), {"date_to": value})
    else:
        response = api.post_json(
            signups_url(open_campaign.pk),
            {"member": {"phone": mobile(1), "birth_date": value}, "channel": "h5"},
        )
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert field in [e["field"] for e in body["errors"]]
