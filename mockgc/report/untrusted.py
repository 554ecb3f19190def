"""A run directory read as untrusted input and written without following what is planted in it.

`mockgc check` judges directories a CI job may have downloaded. What is read from one is a regular file
opened without following a symlink (a FIFO, a device or a link to /dev/zero is refused, never waited on
or read forever), no bigger than a bound, holding JSON no deeper than a bound. What is written to one
is a new file renamed over the old name: a symlink or hard link planted as result.json is replaced,
never written through. Every refusal is a ValueError of one line.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

MB = 1024 * 1024
# The largest file of each kind a run leaves (a 2,000-user, 60 s run's history is ~100 MB).
MAX_HISTORY_BYTES = 4096 * MB
MAX_EVIDENCE_BYTES = 1024 * MB
MAX_SMALL_FILE_BYTES = 64 * MB  # live.json, Locust's CSVs, sessions.json
# How deeply a run's JSON may nest: mockgc's own documents nest 6 deep at most (a strategy's
# parameters a little more); 200,000 nested brackets used to end in a RecursionError traceback.
MAX_JSON_DEPTH = 64


def read_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, not reached through a symlink, at most `limit` of them."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:  # the last component is a symlink
            raise ValueError(f"{path} is a symbolic link: a run's files are read only as regular files") from None
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file (a FIFO, a device or a directory): it is not read")
        if info.st_size > limit:
            raise ValueError(f"{path} is {info.st_size:,} bytes, over the {limit:,} bytes a run's file may have")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path} grew past the {limit:,} bytes a run's file may have while it was read")
    return data


def check_depth(value: Any, source: str, limit: int = MAX_JSON_DEPTH) -> Any:
    """`value` itself when no list or object in it nests deeper than `limit`; iterative, so any depth is safe."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            raise ValueError(f"{source} nests deeper than {limit} levels: it is not a run's document")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


def parse_json(data: bytes | str, source: str) -> Any:
    """JSON with its depth bounded: too deep for the parser is refused in one line too."""
    try:
        return check_depth(json.loads(data), source)
    except RecursionError:
        raise ValueError(f"{source} nests deeper than {MAX_JSON_DEPTH} levels: it is not a run's document") from None
    except ValueError as error:
        if str(error).startswith(source):
            raise
        raise ValueError(f"{source} is not JSON: {error}") from None


def read_json(path: Path, limit: int = MAX_SMALL_FILE_BYTES) -> Any:
    return parse_json(read_file(path, limit), str(path))


def read_json_lines(path: Path, limit: int = MAX_HISTORY_BYTES) -> list[dict[str, Any]]:
    """A JSON-lines file of objects (history.jsonl), each line bounded in depth."""
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(read_file(path, limit).splitlines(), 1):
        if not line.strip():
            continue
        entry = parse_json(line, f"{path}, line {number},")
        if not isinstance(entry, dict):
            raise ValueError(f"{path}, line {number}, is not a JSON object")
        entries.append(entry)
    return entries


def plain_directory(path: Path) -> bool:
    """A directory that is not a symlink: a run directory found inside another is only followed if so."""
    return path.is_dir() and not path.is_symlink()


def write_fresh(path: Path, text: str) -> None:
    """Write `path` as a new file: created exclusively beside it, then renamed over the name, so whatever
    was planted there (a symlink to a file elsewhere, a hard link) is replaced, never written through."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
