"""The platform's own API, as the official SDK calls it: which paths and methods exist, and which the mock lacks.

`sdk_operations.txt` (written by scripts/sdk-operations from the installed SDK) lists every operation. The
HTTP layer asks `platform_methods(path)` to tell apart a method the platform does not have on a path it
has (405) from a path the mock does not model (404, saying so); `not_modelled()` is the README's table and
docs/not-modelled.md, which tests/platform/test_contract.py keeps true.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

OPERATIONS_FILE = Path(__file__).with_name("sdk_operations.txt")
README_START, README_END = "<!-- not-modelled:start -->", "<!-- not-modelled:end -->"
_PARAM = re.compile(r"\{[^}]+\}")
_ANY = "{}"
Trie = dict[str, "Trie | frozenset[str]"]


def template(path: str) -> str:
    """A path with every parameter as `{}`: the SDK's `{userId}` and the mock's `{user_id}` are one."""
    return _PARAM.sub(_ANY, path)


@cache
def _loaded() -> tuple[str, tuple[tuple[str, str], ...]]:
    lines = OPERATIONS_FILE.read_text().splitlines()
    header = lines[0].lstrip("# ").split(":", 1)[0] if lines and lines[0].startswith("#") else ""
    listed = tuple((method, path) for method, _, path in (line.partition(" ") for line in lines[1:] if line))
    return header, listed


def sdk_version() -> str:
    """`purecloudplatformclientv2 <version>`: which SDK the list was taken from."""
    return _loaded()[0]


def listed() -> tuple[tuple[str, str], ...]:
    """Every (METHOD, path) the SDK calls, with the SDK's parameter names."""
    return _loaded()[1]


@cache
def operations() -> frozenset[tuple[str, str]]:
    """Every (METHOD, template) the SDK calls."""
    return frozenset((method, template(path)) for method, path in listed())


@cache
def _trie() -> dict[str, object]:
    root: dict[str, object] = {}
    for method, path in operations():
        node = root
        for segment in path.strip("/").split("/"):
            node = node.setdefault(segment, {})  # type: ignore[assignment]
        node[""] = node.get("", frozenset()) | {method}  # type: ignore[operator]
    return root


def platform_methods(path: str) -> frozenset[str]:
    """The methods the platform has on this concrete path (empty when it has no such path). Where
    templates overlap (`/users/search` and `/users/{userId}`), the one with more literal segments wins,
    as the platform routes it."""
    best: tuple[int, frozenset[str]] = (-1, frozenset())
    stack: list[tuple[dict[str, object], list[str], int]] = [(_trie(), path.strip("/").split("/"), 0)]
    while stack:
        node, rest, literal = stack.pop()
        if not rest:
            methods = node.get("")
            if isinstance(methods, frozenset) and literal > best[0]:
                best = (literal, methods)
            continue
        for key, gain in ((rest[0], 1), (_ANY, 0)):
            child = node.get(key)
            if isinstance(child, dict) and rest[0]:
                stack.append((child, rest[1:], literal + gain))
    return best[1]


def reload() -> None:
    """Forget what was read (after scripts/sdk-operations rewrote the file)."""
    _loaded.cache_clear()
    operations.cache_clear()
    _trie.cache_clear()


def modelled() -> set[tuple[str, str]]:
    """The (METHOD, template) of every route the mock serves as the platform's."""
    from mockgc.platform.api import ROUTES

    return {(route.method, template(route.path)) for route in ROUTES if route.origin == "real"}


def not_modelled() -> list[tuple[str, str]]:
    """Every operation the SDK calls that the mock does not serve, by path (the SDK's spelling)."""
    have = modelled()
    return sorted(((m, p) for m, p in listed() if (m, template(p)) not in have), key=lambda op: (op[1], op[0]))


def _area(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/".join(parts[:3]) if parts[0] == "api" else parts[0]


def readme_table() -> str:
    """The README's table: per area of the API, what the SDK calls, what the mock serves, what it lacks."""
    total = Counter(_area(path) for _, path in operations())
    have = Counter(_area(path) for _, path in modelled() & operations())
    rows = ["| area | the SDK's operations | the mock serves | not modelled |", "|---|---|---|---|"]
    rows += [f"| `/{area}` | {total[area]} | {have[area]} | {total[area] - have[area]} |" for area in sorted(total)]
    count = sum(total.values())
    rows.append(f"| all | {count} | {sum(have.values())} | {count - sum(have.values())} |")
    return "\n".join(rows)


def with_readme_table(readme: str) -> str:
    """The README with its table (between the markers) as `readme_table()` says."""
    start, end = readme.index(README_START) + len(README_START), readme.index(README_END)
    return readme[:start] + "\n" + readme_table() + "\n" + readme[end:]


def not_modelled_document() -> str:
    """docs/not-modelled.md: every operation the SDK calls that the mock lacks, one a line, by area."""
    lines = [
        "# Not modelled",
        "",
        f"Every operation {sdk_version()} calls that the mock does not serve (a request to one is 404,",
        "saying so). Generated by `scripts/sdk-operations`; `tests/platform/test_contract.py` keeps it true.",
    ]
    area = None
    for method, path in not_modelled():
        if _area(path) != area:
            area = _area(path)
            lines += ["", f"## /{area}", ""]
        lines.append(f"- `{method} {path}`")
    return "\n".join(lines) + "\n"
