"""What every page carries: the strict Content-Security-Policy, CSRF on forms, error pages in HTML."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.console.conftest import PASSWORD, make_operator
from yunying.core.permissions import Role


@pytest.mark.parametrize("path", ["/console/login/", "/m/"])
def test_pages_carry_a_strict_content_security_policy(client, db, path):
    response = client.get(path)
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_the_sign_in_form_needs_its_csrf_token(db):
    make_operator(Role.EXECUTION, username="ann")
    strict = Client(enforce_csrf_checks=True)
    refused = strict.post("/console/login/", {"username": "ann", "password": PASSWORD})
    assert refused.status_code == 403
    assert "表单已过期" in refused.content.decode()
    page = strict.get("/console/login/")
    token = page.cookies["csrftoken"].value
    accepted = strict.post(
        "/console/login/", {"username": "ann", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302


def test_an_unknown_page_is_an_html_404_in_the_visitors_language(client, db):
    response = client.get("/console/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "页面不存在" in response.content.decode()
    english = client.get("/m/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Page not found" in english.content.decode()


def test_the_session_cookie_is_http_only_and_same_site(client, db):
    make_operator(Role.EXECUTION, username="ann")
    response = client.post("/console/login/", {"username": "ann", "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_the_django_admin_asks_for_the_second_factor_too(client, db, admin_user):
    client.force_login(admin_user)  # a password alone
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_django_admin_opens_after_the_second_factor(admin_client):
    assert admin_client.get("/admin/").status_code == 200


def test_the_admin_shows_operators_but_cannot_make_or_promote_one(admin_client, db):
    """Roles change through `yunying operator` only (audited): in the admin one superuser could mint a
    second strategy operator unrecorded and approve their own export in clear with it (outside review)."""
    from django.contrib.auth.models import Group, User

    strategy = Group.objects.get_or_create(name="strategy")[0]
    ghost = User.objects.create_user("ghost")
    assert admin_client.get("/admin/auth/user/").status_code == 200
    assert admin_client.get("/admin/auth/user/add/").status_code == 403
    response = admin_client.post(
        f"/admin/auth/user/{ghost.pk}/change/", {"username": "ghost", "groups": [strategy.pk]}
    )
    assert response.status_code == 403 and not ghost.groups.exists()
    assert admin_client.post("/admin/auth/group/add/", {"name": "strategy-2"}).status_code == 403
    assert admin_client.post(f"/admin/auth/user/{ghost.pk}/password/", {}).status_code in (403, 404)
