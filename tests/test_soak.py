"""`make soak`'s script, end to end but short: RSS sampled, the truth checked exactly, the bound enforced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_a_short_soak_samples_rss_checks_the_truth_and_enforces_its_bound(tmp_path: Path) -> None:
    # A separate process: Locust patches the interpreter with gevent on import.
    argv = [sys.executable, "-m", "bench.soak", "--duration", "10", "--users", "40", "--rate", "60"]
    argv += ["--publish-every", "4", "--sample-every", "2", "--bound-mb", "1", "--out", str(tmp_path)]
    # The mock archives what was idle for 2 s, so the truth it reads back comes from memory and archive.
    env = dict(os.environ, MOCKGC_ARCHIVE_AFTER_SECONDS="2")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # nobody's mock fits in 1 MB
    assert "RSS (MB)" in done.stdout and "after /mock/reset" in done.stdout
    report = json.loads((tmp_path / "soak.json").read_text())
    assert len(report["samples"]) >= 5
    assert report["interactions"] > 50 and report["acked"] > 0
    assert report["memory"]["sessionsArchived"] > 0  # so the truth came from memory and the archive
    # The only problem is the bound: every session reached the truth and every acknowledged write is durable.
    [problem] = report["problems"]
    assert problem.startswith("RSS passed the 1 MB bound")
