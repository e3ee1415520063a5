"""Operators of every role, signed in through the real login (and TOTP where the role needs it)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunying.core.permissions import Role

PASSWORD = "correct-horse-battery-staple"
OPERATOR_ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]


def make_operator(role: Role | None, *, username: str | None = None, with_totp: bool = False) -> User:
    user = User.objects.create_user(username=username or f"op-{role or 'none'}", password=PASSWORD)
    if role is not None:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    if with_totp:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def totp_code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(client, user: User) -> None:
    """Password, then the TOTP code when the operator has an authenticator."""
    response = client.post("/console/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        response = client.post("/console/login/verify/", {"token": totp_code(user)})
        assert response.status_code == 302, response.content


@pytest.fixture
def console_as(client, db):
    """console_as(role) → a test client signed in as an operator of that role (TOTP done)."""

    def sign_in_as(role: Role):
        from django.test import Client

        user = make_operator(role, with_totp=role in (Role.STRATEGY, Role.SUPPORT))
        signed_in = Client()
        sign_in(signed_in, user)
        signed_in.user = user
        return signed_in

    return sign_in_as
