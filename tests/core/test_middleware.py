"""Edge middleware: body limits without Content-Length, client addresses behind proxies, 405s."""

import io

import pytest
from django.test import RequestFactory

from yunying.core.middleware import ProxyClientAddressMiddleware, RequestSizeLimitMiddleware


def _echo(request):
    from django.http import HttpResponse

    return HttpResponse(request.body)


def _chunked(body: bytes):
    request = RequestFactory().post("/api/v1/campaigns", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.META["wsgi.input"] = io.BytesIO(body)  # as the server de-chunked it; Django sees no length
    return request


@pytest.mark.parametrize(("size", "status"), [(100, 200), (64 * 1024, 200), (64 * 1024 + 1, 413)])
def test_a_chunked_body_is_held_to_the_limit(settings, size, status):
    # given: no Content-Length, so only reading tells the size
    settings.MAX_REQUEST_BODY_BYTES = 64 * 1024
    body = b"x" * size
    # when
    response = RequestSizeLimitMiddleware(_echo)(_chunked(body))
    # then: refused past the limit; below it the view still reads the whole body
    assert response.status_code == status
    if status == 200:
        assert response.content == body
    else:
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("trusted", "forwarded", "client"),
    [
        pytest.param(0, "203.0.113.9", "127.0.0.1", id="no-proxy-trusted-header-ignored"),
        pytest.param(1, "203.0.113.9", "203.0.113.9", id="one-proxy"),
        pytest.param(1, "6.6.6.6, 203.0.113.9", "203.0.113.9", id="forged-entry-ignored"),
        pytest.param(2, "203.0.113.9, 10.0.0.2", "203.0.113.9", id="two-proxies"),
        pytest.param(2, "10.0.0.2", "127.0.0.1", id="too-few-hops-kept"),
    ],
)
def test_client_address_behind_trusted_proxies(settings, trusted, forwarded, client):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")
    seen = {}
    ProxyClientAddressMiddleware(lambda r: seen.setdefault("addr", r.META["REMOTE_ADDR"]))(request)
    assert seen["addr"] == client


def test_wrong_method_is_a_problem_with_its_code_and_allow_header(api, open_campaign):
    response = api.put(f"/api/v1/campaigns/{open_campaign.pk}", "{}", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (405, "core.method_not_allowed")
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("path", ["/console/logout/", "/m/signout/"])
def test_opening_a_form_address_as_a_link_is_a_page_that_says_so(client, db, path):
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        pytest.skip(f"{path} is not a route")
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("text/html")
    assert "takes a form" in response.content.decode()
    assert "POST" in response["Allow"]


def test_an_oversized_page_form_is_a_page_in_the_visitors_language(client, db, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1024
    response = client.post("/console/login/", {"username": "x" * 2000}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "提交内容过大" in response.content.decode()
    # the API keeps its problem+json
    api = client.post("/api/v1/campaigns", "x" * 2000, content_type="application/json")
    assert api.status_code == 413 and api["Content-Type"] == "application/problem+json"
