"""Headless Chromium for the tests that look at a page as a person would (the report, the web UI's mockgc tab).

Chromium comes from the system's packages (`apt-get install -y chromium` gives /usr/bin/chromium; `make
browser-check` runs these tests and keeps the screenshots in runs/browser/). Where it is absent the tests
skip and say so. It runs without a sandbox, a GPU, background networking, updates or sync, in a fresh
profile, and is given a virtual time budget so the page's scripts (plotly, Locust's React app) finish
before the DOM is dumped or the screenshot taken.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def chromium() -> str:
    """The browser's path, or the test skips with how to get it."""
    found = os.environ.get("MOCKGC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("headless Chromium is not installed: `apt-get install -y chromium` (see README, Browser check)")
    return found


def _run(url: str, *args: str, budget_ms: int = 8000) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", *args, url],
            capture_output=True,
            text=True,
            timeout=120,
        )


def rendered_dom(url: str, budget_ms: int = 8000) -> str:
    """The page's DOM after its scripts ran: what a person's browser shows, as HTML."""
    done = _run(url, "--dump-dom", budget_ms=budget_ms)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(url: str, path: Path, width: int = 1300, height: int = 2400, budget_ms: int = 8000) -> Path:
    """A PNG of the page (kept under $MOCKGC_SCREENSHOTS when set, for a person to look at)."""
    keep = os.environ.get("MOCKGC_SCREENSHOTS")
    if keep:
        path = Path(keep) / path.name
        path.parent.mkdir(parents=True, exist_ok=True)
    done = _run(url, f"--screenshot={path}", f"--window-size={width},{height}", budget_ms=budget_ms)
    assert done.returncode == 0 and path.exists(), done.stderr[-2000:]
    return path


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
