"""The analytics queries' shared grammar: intervals, filters of clauses and predicates, buckets and paging.

Plain values in, plain values out: the HTTP layer parses the JSON into these, the analytics area
answers with them. A dimension the mock does not record is simply absent from what a predicate sees,
so `matches` finds nothing and `notExists` everything, as a real org without that data answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from mockgc.platform.domain.errors import InvalidValue

T = TypeVar("T")
# What a predicate looks at: each dimension's value(s); a missing key is a dimension without data.
Dimensions = Mapping[str, str | Sequence[str]]

MAX_DETAIL_PAGE_SIZE = 100  # a details query pages at most 100 at a time
MAX_PAGINATION = 100_000  # "Pagination may not exceed 100000 results": pageSize x pageNumber
MAX_DETAIL_INTERVAL_SECONDS = 7 * 86_400.0  # a synchronous details query spans at most 7 days
MAX_JOB_INTERVAL_SECONDS = 31 * 86_400.0  # an asynchronous job, at most 31 days
MAX_AGGREGATE_BUCKETS = 1_000  # interval / granularity, per aggregate query


@dataclass(frozen=True, slots=True)
class Interval:
    """[start, end) in epoch seconds: the ISO-8601 `start/end` of a query."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def overlaps(self, start: float, end: float | None) -> bool:
        """Whether [start, end) (end None: still going) meets this interval."""
        return start < self.end and (end is None or end > self.start)

    def buckets(self, granularity: float | None) -> list[Interval]:
        """The interval cut in `granularity`-long pieces (the last may be shorter); None: one bucket."""
        if granularity is None:
            return [self]
        if self.seconds / granularity > MAX_AGGREGATE_BUCKETS:
            raise InvalidValue(
                f"the interval holds more than {MAX_AGGREGATE_BUCKETS} granularity buckets",
                details=[{"fieldName": "granularity"}],
            )
        cuts, start = [], self.start
        while start < self.end:
            cuts.append(Interval(start, min(start + granularity, self.end)))
            start += granularity
        return cuts


@dataclass(frozen=True, slots=True)
class Predicate:
    """`dimension` (or a metric or property, which the mock never records) `operator` `value`."""

    dimension: str
    operator: str = "matches"  # matches | exists | notExists
    value: str | None = None

    def test(self, seen: Dimensions) -> bool:
        present = seen.get(self.dimension)
        values = () if present is None else (present,) if isinstance(present, str) else tuple(present)
        if self.operator == "exists":
            return bool(values)
        if self.operator == "notExists":
            return not values
        return self.value in values


@dataclass(frozen=True, slots=True)
class Clause:
    """Predicates joined by `type` (and | or)."""

    type: str
    predicates: tuple[Predicate, ...]

    def test(self, seen: Dimensions) -> bool:
        results = (p.test(seen) for p in self.predicates)
        return all(results) if self.type == "and" else any(results)


@dataclass(frozen=True, slots=True)
class Filter:
    """A query's filter: its clauses and predicates, all joined by `type`. No filter keeps everything."""

    type: str = "and"
    clauses: tuple[Clause, ...] = ()
    predicates: tuple[Predicate, ...] = ()

    def test(self, seen: Dimensions) -> bool:
        parts = [*self.clauses, *self.predicates]
        if not parts:
            return True
        results = (part.test(seen) for part in parts)
        return all(results) if self.type == "and" else any(results)

    def values_of(self, dimension: str) -> list[str]:
        """The values `matches` predicates name for `dimension`, anywhere in the filter."""
        found = [p.value for p in self.predicates if p.dimension == dimension and p.value is not None]
        for clause in self.clauses:
            found += [p.value for p in clause.predicates if p.dimension == dimension and p.value is not None]
        return found


def all_match(filters: Iterable[Filter], seen: Dimensions) -> bool:
    """A query's list of filters: every one must keep the item."""
    return all(f.test(seen) for f in filters)


@dataclass(frozen=True, slots=True)
class Paging:
    size: int = 25
    number: int = 1

    def __post_init__(self) -> None:
        if self.size * self.number > MAX_PAGINATION:
            raise InvalidValue(f"Pagination may not exceed {MAX_PAGINATION} results", details=[{"fieldName": "paging"}])

    def page(self, items: Sequence[T]) -> list[T]:
        start = (self.number - 1) * self.size
        return list(items[start : start + self.size])


@dataclass(frozen=True, slots=True)
class TermAggregation:
    """A `termFrequency` roll-up: how many results have each value of `dimension` (the `size` most)."""

    dimension: str
    size: int = 10


@dataclass(frozen=True, slots=True)
class TermCount:
    dimension: str
    counts: list[tuple[str, int]] = field(default_factory=list)

    def to_api(self) -> dict[str, object]:
        """The SDK's AggregationResult."""
        return {
            "type": "termFrequency",
            "dimension": self.dimension,
            "count": sum(count for _, count in self.counts),
            "results": [{"value": value, "count": count} for value, count in self.counts],
        }


def term_counts(aggregations: Iterable[TermAggregation], rows: Sequence[Dimensions]) -> list[TermCount]:
    """Each aggregation's counts over `rows`, the most frequent first (ties by value)."""
    answers = []
    for aggregation in aggregations:
        counts: dict[str, int] = {}
        for row in rows:
            present = row.get(aggregation.dimension)
            values = () if present is None else (present,) if isinstance(present, str) else present
            for value in values:
                counts[value] = counts.get(value, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: aggregation.size]
        answers.append(TermCount(aggregation.dimension, ranked))
    return answers
