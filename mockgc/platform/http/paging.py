"""The query strings listings share: paging (in and out), id lists, expand and booleans."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import request
from werkzeug.datastructures import MultiDict

from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest

T = TypeVar("T")
PAGING_PARAMS = ("pageSize", "pageNumber")
# Every spelling clients send: the SDK's (ascending/descending for users and groups, asc/desc for
# queues) and the upper-case one older clients use.
SORT_ORDERS = ("ascending", "descending", "asc", "desc", "ASC", "DESC")


def parse_descending(args: MultiDict[str, str]) -> bool:
    """sortOrder: ascending (the default) or descending, in any of the spellings above."""
    return parse_choice(args, "sortOrder", SORT_ORDERS, "asc").lower() in ("desc", "descending")


def _positive(args: MultiDict[str, str], name: str, default: int, ceiling: int | None) -> int:
    text = args.get(name)
    if text is None:
        return default
    limit = f" from 1 to {ceiling}" if ceiling else ", 1 or more"
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise InvalidValue(f"{name} must be an integer{limit}", details=[{"fieldName": name}])
    value = int(text)
    if value < 1 or (ceiling is not None and value > ceiling):
        raise InvalidValue(f"{name} must be an integer{limit}", details=[{"fieldName": name}])
    return value


def parse_page(
    args: MultiDict[str, str], *, default_size: int = DEFAULT_PAGE_SIZE, max_size: int = MAX_PAGE_SIZE
) -> PageRequest:
    """pageSize (1 to 500, or the listing's own maximum) and pageNumber (1 or more)."""
    return PageRequest(_positive(args, "pageSize", default_size, max_size), _positive(args, "pageNumber", 1, None))


def parse_list(args: MultiDict[str, str], name: str, *, most: int | None = None) -> list[str] | None:
    """A repeated or comma-separated parameter (`id=a&id=b` or `id=a,b`); None when absent."""
    if name not in args:
        return None
    values = [part.strip() for value in args.getlist(name) for part in value.split(",") if part.strip()]
    if most is not None and len(values) > most:
        raise InvalidValue(f"at most {most} values of {name} may be given", details=[{"fieldName": name}])
    return values


def parse_expand(args: MultiDict[str, str], allowed: Iterable[str]) -> frozenset[str]:
    """The expand values, each one of `allowed` (an empty one, as in `expand=`, is not)."""
    wanted = frozenset(part.strip() for value in args.getlist("expand") for part in value.split(","))
    unknown = sorted(wanted - frozenset(allowed))
    if unknown:
        shown = ", ".join(repr(value) for value in unknown)
        raise InvalidValue(f"expand does not take {shown}", details=[{"fieldName": "expand"}])
    return wanted


def parse_bool(args: MultiDict[str, str], name: str) -> bool | None:
    text = args.get(name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise InvalidValue(f"{name} must be true or false", details=[{"fieldName": name}])
    return text == "true"


def parse_choice(args: MultiDict[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    """One of `choices`, spelt exactly as listed (a parameter that takes both cases lists both)."""
    text = args.get(name, default)
    if text not in choices:
        raise InvalidValue(f"{name} must be one of {', '.join(choices)}", details=[{"fieldName": name}])
    return text


def page_uri(path: str, args: MultiDict[str, str], size: int, number: int) -> str:
    """The listing's path with the page asked for first, then every other parameter as given."""
    rest = [(k, v) for k, v in args.items(multi=True) if k not in PAGING_PARAMS]
    return f"{path}?{urlencode([('pageSize', size), ('pageNumber', number), *rest], safe=',')}"


def listing_to_api(
    page: Page[T], render: Callable[[T], dict[str, Any]], *, counted: bool = True, path: str | None = None
) -> dict[str, Any]:
    """An entity listing as the platform pages it: no previousUri on the first page, no nextUri on
    the last (or past it). `counted=False` leaves out total, pageCount and lastUri, for the
    listings whose SDK model has none (QueueMemberEntityListing)."""
    args = request.args
    path = path or request.path
    last = max(1, page.count)

    def uri(number: int) -> str:
        return page_uri(path, args, page.size, number)

    api: dict[str, Any] = {"entities": [render(entity) for entity in page.entities]}
    api |= {"pageSize": page.size, "pageNumber": page.number}
    if counted:
        api |= {"total": page.total, "pageCount": page.count}
    api |= {"firstUri": uri(1), "selfUri": uri(page.number)}
    if counted:
        api["lastUri"] = uri(last)
    if page.number < page.count:
        api["nextUri"] = uri(page.number + 1)
    if page.number > 1:
        api["previousUri"] = uri(min(page.number - 1, last))
    return api
