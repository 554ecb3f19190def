"""What the platform's listings share: the paging query and the paging fields of an entity listing."""

from __future__ import annotations

from mockgc.platform.api.base import Answer, Query
from mockgc.platform.domain.paging import MAX_PAGE_SIZE
from mockgc.platform.domain.users import MAX_IDS, USER_EXPANDS

MAX_PAGE_NUMBER = 999_999_999  # the parser takes at most nine digits
# sortOrder as the SDK documents it per listing (users and groups: ascending/descending; queues:
# asc/desc). The parser also takes the other spellings clients send (http/paging.py: SORT_ORDERS), but
# the document lists one each, with no two values differing only in case (generators refuse those).
SORT_ORDERS = ["ascending", "descending"]
QUEUE_SORT_ORDERS = ["asc", "desc"]


def page_query(max_size: int = MAX_PAGE_SIZE) -> tuple[Query, Query]:
    return (
        Query("pageSize", {"type": "integer", "minimum": 1, "maximum": max_size}, description="default 25"),
        Query("pageNumber", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_NUMBER}),
    )


def ids_query(name: str = "id") -> Query:
    """Ids, as the SDK sends them: the parameter repeated (an array); a comma-separated value is taken too."""
    return Query(
        name,
        {"type": "array", "items": {"type": "string"}, "maxItems": MAX_IDS},
        description=f"repeated (or comma-separated), at most {MAX_IDS}",
    )


def text_query(name: str, description: str = "") -> Query:
    return Query(name, {"type": "string", "minLength": 1, "maxLength": 256}, description=description)


def bool_query(name: str) -> Query:
    return Query(name, {"type": "boolean"})


def choice_query(name: str, choices: list[str]) -> Query:
    return Query(name, {"type": "string", "enum": choices})


SORT_QUERY = choice_query("sortOrder", SORT_ORDERS)
QUEUE_SORT_QUERY = choice_query("sortOrder", QUEUE_SORT_ORDERS)
EXPAND_QUERY = Query("expand", {"type": "array", "items": {"type": "string", "enum": sorted(USER_EXPANDS)}})


class Paged(Answer):
    """An entity listing's paging: no previousUri on the first page, no nextUri on the last."""

    pageSize: int
    pageNumber: int
    total: int
    pageCount: int
    firstUri: str
    selfUri: str
    lastUri: str
    nextUri: str | None = None
    previousUri: str | None = None


class PagedUncounted(Answer):
    """A listing whose SDK model has no totals (QueueMemberEntityListing)."""

    pageSize: int
    pageNumber: int
    firstUri: str
    selfUri: str
    nextUri: str | None = None
    previousUri: str | None = None
