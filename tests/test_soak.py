"""`make soak`'s script, end to end but short: RSS sampled, the truth checked exactly, the bound enforced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from bench.memory import bound_problem, high_water_mb


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


def test_the_bound_is_judged_on_the_true_peak_not_only_on_the_samples() -> None:
    samples = [{"t": 0.0, "rss_mb": 100.0}, {"t": 10.0, "rss_mb": 150.0}]
    assert bound_problem(samples, 150.0, 160, "sampled") is None
    # Samples under the bound, a peak between them (or during the truth read) over it: a problem.
    assert bound_problem(samples, 162.0, 160, "the kernel's high-water mark") == (
        "RSS peaked at 162 MB, past the 160 MB bound (the kernel's high-water mark)"
    )
    assert bound_problem([*samples, {"t": 20.0, "rss_mb": 170.0}], 170.0, 160, "sampled") == (
        "RSS passed the 160 MB bound at 20 s"
    )


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is Linux's")
def test_the_high_water_mark_is_at_least_what_the_process_holds_now() -> None:
    held = bytearray(64 * 1024 * 1024)  # touch 64 MB so the mark must cover it
    held[::4096] = b"x" * len(held[::4096])
    peak = high_water_mb(os.getpid())
    assert peak is not None and peak >= psutil.Process().memory_info().rss / (1024 * 1024) - 1
    assert high_water_mb(-1) is None
