"""Pagination for console lists: a page number from the query string that never fails (page=10^20,
page=abc: the last or the first page), and the query string the page links keep."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from yunying.core.numbers import ascii_digits

PER_PAGE = 50
ID_MAX = 2**63 - 1  # the largest id a database column holds: bigger ones are refused by the forms


def page_of(request: HttpRequest, rows, *, per_page: int = PER_PAGE) -> tuple[Page, str]:
    """The requested page of `rows` and the query string without `page` (for _pagination.html)."""
    raw = request.GET.get("page", "1")
    # Past the last page: the last one; not a number: the first (Paginator.get_page's rules, with
    # the digits bounded so no conversion of a 10,000-digit number happens).
    number = (raw if len(raw) <= 12 else "999999999999") if ascii_digits(raw) else 1
    page = Paginator(rows, per_page).get_page(number)
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
