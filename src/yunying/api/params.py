"""Path and query parameters shared by every router, with the bounds the databases can hold.

An id past a 64-bit signed integer overflowed the database driver (a 500 on SQLite and PostgreSQL),
and so did the OFFSET of a huge `page`: the bounds live here, in the schema, so the caller gets a
422 naming the parameter and the OpenAPI document states them."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from ninja import Field, Path, Schema
from ninja.errors import HttpError, ValidationError
from ninja.pagination import PageNumberPagination
from pydantic import AfterValidator, BaseModel, BeforeValidator
from pydantic import ValidationError as PydanticValidationError

from yunying.core.numbers import ascii_digits

MAX_ID = 2**63 - 1  # BigAutoField's range, on SQLite and PostgreSQL alike
PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_PAGE = 10_000_000  # (MAX_PAGE - 1) * MAX_PAGE_SIZE is far inside a 64-bit OFFSET

CampaignId = Annotated[int, Path(ge=1, le=MAX_ID)]
SignupId = Annotated[int, Path(ge=1, le=MAX_ID)]
MemberId = Annotated[int, Path(ge=1, le=MAX_ID)]


# A sign-up as the withdraw route takes it: the operators' sequential id, or the public id
# (campaigns.models.signup_public_id) integrators use. One route, so the OpenAPI paths stay distinct.
def _within_id_range(ref: str) -> str:
    if ascii_digits(ref) and int(ref) > MAX_ID:
        raise ValueError(f"an id is at most {MAX_ID}")
    return ref


SignupRef = Annotated[
    str, Path(pattern=r"^(\d{1,19}|su_[A-Za-z0-9_-]{22})$"), AfterValidator(_within_id_range)
]


class Pages(PageNumberPagination):
    """Pages of PAGE_SIZE (or `page_size`, at most MAX_PAGE_SIZE); past the last page, no items."""

    class Input(Schema):
        page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1
        page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] | None = None

    def __init__(self, **kwargs) -> None:
        super().__init__(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE, **kwargs)


_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    """Dates and instants are ISO 8601 text, as the OpenAPI document says (format date / date-time).
    pydantic on its own also takes numbers (0, "0", 0.5 as seconds since 1970): a typo'd value then
    silently meant 1970."""
    if isinstance(value, date):  # already parsed (a service-side caller)
        return value
    # A number in any notation ("0", "0.5", "-3.8e-133") is not a date: only text that starts as
    # ISO 8601 does (YYYY-MM-DD), which no number does.
    if not isinstance(value, str) or not _ISO_START.match(value.strip()):
        raise ValueError(
            "use an ISO 8601 date or date-time text, e.g. 2026-11-11 or 2026-11-11T20:00:00+08:00"
        )
    return value


def _instant_checked(value: datetime) -> datetime:
    """An instant the database can hold and compare: with an offset (a time without one means
    different instants to different callers), between 1900 and 2999 and representable in UTC
    (0001-01-01 at +14:00 is not). It failed deep inside a query otherwise (a 500)."""
    if timezone.is_naive(value):
        raise ValueError("give the time with its offset, e.g. 2026-11-11T20:00:00+08:00")
    try:
        year = value.astimezone(UTC).year
    except OverflowError:
        year = 0
    if not 1900 <= year <= 2999:
        raise ValueError("use an instant between the years 1900 and 2999")
    return value


def _bound_clamped(value: datetime) -> datetime:
    """A filter's bound: one without an offset is in the configured time zone; one past what UTC can
    represent is moved to 1900 or 9998, which matches every row or none, as the caller meant."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        value.astimezone(UTC)
    except OverflowError:
        return datetime(1900, 1, 1, tzinfo=UTC) if value.year < 5000 else datetime(9998, 12, 31, tzinfo=UTC)
    return min(max(value, datetime(1900, 1, 1, tzinfo=UTC)), datetime(9998, 12, 31, tzinfo=UTC))


Instant = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_instant_checked)]
Bound = Annotated[
    datetime, BeforeValidator(_iso_text), AfterValidator(_bound_clamped)
]  # a filter's since/until
Day = Annotated[date, BeforeValidator(_iso_text)]


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _empty_form(request) -> bool:
    if request.content_type not in _FORM_TYPES:
        return False
    try:
        return not request.POST and not request.FILES
    except (MultiPartParserError, ValueError):  # a malformed form is not an empty one
        return False


def optional_body(request, schema: type[BaseModel]) -> BaseModel:
    """A JSON body a caller may leave out (an earlier version of the operation took none): no body, or
    an HTTP client's empty form, is the schema's defaults; a body is validated as ninja validates one
    (422 with `errors`; the literal `null` is not an object), and one that is not JSON is
    core.malformed_json. Declare it with openapi_extra=optional_body_schema(schema)."""
    if not request.body.strip():
        return schema()
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the parser's depth
        if _empty_form(request):  # an HTTP client's empty form: nothing sent
            return schema()
        raise HttpError(400, "body is not JSON") from exc
    try:
        return schema.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(
            [{**error, "loc": ("body", "payload", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from exc


def optional_body_schema(model: type[BaseModel]) -> dict:
    """The OpenAPI requestBody of an operation that reads its body with optional_body."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": False, "content": {"application/json": {"schema": schema}}}}
