"""Every status an operation can answer is in the OpenAPI document, as application/problem+json
(issue 8 §2), derived from one rule (api/openapi.py), not listed per handler."""

import pytest

from yunying.api.errors import STATUS_BY_CODE

EVERYWHERE = {"400", "401", "403", "422", "429", "500", "503"}


@pytest.fixture
def schema(client, db):
    return client.get("/api/v1/openapi.json").json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_declares_its_problems(schema):
    for path, method, operation in _operations(schema):
        declared = set(map(str, operation["responses"]))
        expected = set(EVERYWHERE)
        if "{" in path or method != "get":
            expected.add("404")
        if method in ("post", "patch", "put"):
            expected |= {"409", "413"}
        assert expected <= declared, (method, path, sorted(expected - declared))
        for status in expected:
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_every_status_the_error_table_can_answer_is_declared_somewhere(schema):
    declared = {str(s) for _, _, operation in _operations(schema) for s in operation["responses"]}
    # 405 is the router's answer to a method no operation has: it belongs to no operation
    assert {str(s) for s in STATUS_BY_CODE.values()} - {"405"} <= declared


def test_the_problem_schema_requires_the_rfc_members_and_the_error_shape(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert problem["properties"]["errors"]["items"]["required"] == ["field", "code", "message"]


def test_no_two_api_models_share_a_name():
    """OpenAPI components are keyed by class name: two models named alike (MemberOut in signups and
    in members) made one overwrite the other, and answers broke their own declared schema."""
    import inspect

    from pydantic import BaseModel

    import yunying.api as api_package

    seen: dict[str, list[str]] = {}
    for module_info in __import__("pkgutil").iter_modules(api_package.__path__):
        module = __import__(f"yunying.api.{module_info.name}", fromlist=["_"])
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                seen.setdefault(name, []).append(module.__name__)
    assert {name: mods for name, mods in seen.items() if len(mods) > 1} == {}
