"""The credentials a live run holds, kept out of every file it writes under --out and out of what it prints.

A CI job uploads the run's directory as an artifact. The mock a run starts printed its client secret
and admin key into mock.log, and a dead mock's log tail carried them into result.json's
`stopped_by.log_tail`. Every credential the run makes or is given is registered here; the values of a
child's environment named like a credential are registered as the child starts. Log tails are
redacted as they are read, and when the run ends every file under --out is scrubbed.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

REDACTED = "[redacted]"
# Shorter values are not taken for credentials: replacing every "1" or "true" would wreck the files.
MIN_SECRET_CHARS = 8
CREDENTIAL_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|(^|_)KEY($|_)|APIKEY", re.IGNORECASE)


class Secrets:
    def __init__(self, values: Iterable[str | None] = ()) -> None:
        self._values: set[str] = set()
        self.add(*values)

    def add(self, *values: str | None) -> None:
        self._values.update(v for v in values if v and len(v) >= MIN_SECRET_CHARS)

    def add_environment(self, env: Mapping[str, str] | None) -> None:
        """A child's environment: every value under a credential's name (MOCKGC_ADMIN_KEY, *_SECRET, ...)."""
        self.add(*(value for name, value in (env or {}).items() if CREDENTIAL_NAME.search(name)))

    def redact(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):  # a secret inside another goes last
            text = text.replace(value, REDACTED)
        return text

    def scrub(self, directory: Path) -> list[Path]:
        """Rewrite every regular file under `directory` that holds a credential (links are not followed);
        the files changed, for the record."""
        if not self._values or not directory.is_dir():
            return []
        needles = sorted((v.encode() for v in self._values), key=len, reverse=True)
        changed = []
        for root, _dirs, files in os.walk(directory, followlinks=False):
            for name in files:
                path = Path(root) / name
                if not stat.S_ISREG(path.lstat().st_mode):
                    continue
                data = path.read_bytes()
                if not any(needle in data for needle in needles):
                    continue
                for needle in needles:
                    data = data.replace(needle, REDACTED.encode())
                _replace(path, data)
                changed.append(path)
        return changed


def _replace(path: Path, data: bytes) -> None:
    """A new file renamed over the old one, with its mode: a reader never sees half of it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
