"""Every number and yes/no in a JSON body is taken as sent, never converted: `"member_id": true` filed
a request for member 1 and `"identity_confirmed": "yes"` carried out an erasure (new user review).
Query and path parameters arrive as text and are converted on purpose; bodies are JSON and are not."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from tests.api.helpers import assert_problem
from yunying.api import api
from yunying.core.permissions import Role


def _body_models():
    for _prefix, router in api._routers:
        for operations in router.path_operations.values():
            for operation in operations.operations:
                for model in operation.models:
                    if model.__ninja_param_source__ == "body":
                        yield model


def _strict(meta) -> bool:
    """A Strict() marker, or a Field(strict=True) inside Annotated[int, Field(...)] | None."""
    return getattr(meta, "strict", None) is True or any(map(_strict, getattr(meta, "metadata", ())))


def _lax_fields(model: type[BaseModel], seen: set, *, wrapper: bool = False) -> list[str]:
    """Fields of the API's own body schemas (nested ones too) typed int or bool without strict. The
    domain's own models inside a body (a campaign's rules and form) judge their own input."""
    if model in seen or not (wrapper or model.__module__.startswith("yunying.api")):
        return []
    seen.add(model)
    lax = []
    for name, info in model.model_fields.items():
        members = typing.get_args(info.annotation) or (info.annotation,)
        for member in members:
            inner = typing.get_args(member) or (member,)
            for candidate in (member, *inner):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    lax += _lax_fields(candidate, seen)
        strict = any(map(_strict, info.metadata)) or any(
            _strict(m) for member in members for m in getattr(member, "__metadata__", ())
        )
        bases = [typing.get_args(m)[0] if typing.get_origin(m) is typing.Annotated else m for m in members]
        if any(base in (int, bool) for base in bases) and not strict:
            lax.append(f"{model.__module__}.{model.__qualname__}.{name}")
    return lax


def test_every_int_and_bool_in_a_body_is_strict():
    seen: set = set()
    lax = [field for model in _body_models() for field in _lax_fields(model, seen, wrapper=True)]
    assert len(seen) > 20  # the walk reached the schemas
    assert lax == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/privacy/requests", {"member_id": True, "kind": "export", "channel": "email"}, "member_id"),
        ("/api/v1/privacy/requests", {"member_id": "1", "kind": "export", "channel": "email"}, "member_id"),
        (
            "/api/v1/privacy/export-approvals",
            {"campaign_id": True, "purpose": "prize_delivery"},
            "campaign_id",
        ),
    ],
)
def test_a_converted_value_is_refused_and_nothing_is_filed(api_as, path, body, field):
    from yunying.members.models import Member
    from yunying.privacy.models import DataSubjectRequest, ExportApproval

    Member.objects.create(external_id="m-1")
    response = api_as(Role.STRATEGY).post_json(path, body)
    assert_problem(response, 422, "core.invalid")
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not DataSubjectRequest.objects.exists() and not ExportApproval.objects.exists()
