"""The user search's query grammar: criteria of a type, fields and value(s), joined AND/OR/NOT, nested in groups.

Plain values: a user is searched as a map of field names to the texts it holds (`Agent.search_fields`).
Matching is case-insensitive, as the platform's search is. REGEX and QUERY_STRING are not modelled (a
backtracking regex over user data is a way to stall the mock), and the parser refuses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# The fields a criterion may name (the User's searchable fields the mock holds).
SEARCH_FIELDS = (
    "id",
    "name",
    "email",
    "username",
    "state",
    "department",
    "title",
    "addresses",
    "primaryContactInfo.address",
    "division.id",
    "groups.id",
    "skills.id",
    "presence.presenceDefinition.systemPresence",
    "routingStatus.status",
)
SEARCH_TYPES = (
    "EXACT",
    "STARTS_WITH",
    "CONTAINS",
    "TERM",
    "TERMS",
    "REQUIRED_FIELDS",
    "MATCH_ALL",
    "RANGE",
    "LESS_THAN",
    "LESS_THAN_EQUAL_TO",
    "GREATER_THAN",
    "GREATER_THAN_EQUAL_TO",
)
Fields = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion: `type` over `fields` with `values` (and a range's start and end), or a nested group."""

    type: str
    fields: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    operator: str = "AND"  # how it joins the others: AND, OR, NOT
    group: tuple[Criterion, ...] = ()

    def test(self, user: Fields) -> bool:
        if self.group:
            return matches(self.group, user)
        if self.type == "MATCH_ALL":
            return True
        texts = [text.lower() for field in self.fields for text in user.get(field, ())]
        if self.type == "REQUIRED_FIELDS":
            return all(any(user.get(field, ())) for field in self.fields)
        return any(self._one(text) for text in texts)

    def _one(self, text: str) -> bool:
        wanted = [value.lower() for value in self.values]
        if self.type in ("EXACT", "TERM", "TERMS"):
            return text in wanted
        if self.type == "CONTAINS":
            return any(value in text for value in wanted)
        if self.type == "STARTS_WITH":
            return any(text.startswith(value) for value in wanted)
        low, high = (self.start or "").lower(), (self.end or "").lower()
        bound = wanted[0] if wanted else ""
        return {
            "RANGE": (not low or text >= low) and (not high or text <= high),
            "LESS_THAN": text < bound,
            "LESS_THAN_EQUAL_TO": text <= bound,
            "GREATER_THAN": text > bound,
            "GREATER_THAN_EQUAL_TO": text >= bound,
        }.get(self.type, False)


def matches(criteria: Sequence[Criterion], user: Fields) -> bool:
    """Every AND criterion, at least one OR criterion (when there are any), and no NOT criterion."""
    ors = [c for c in criteria if c.operator == "OR"]
    return (
        all(c.test(user) for c in criteria if c.operator == "AND")
        and (not ors or any(c.test(user) for c in ors))
        and not any(c.test(user) for c in criteria if c.operator == "NOT")
    )
