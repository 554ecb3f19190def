"""Two `mockgc tune` processes share one study in Optuna's RDB storage on the real PostgreSQL (127.0.0.1:5432), in
a throwaway database: every trial judged once, by one of them; any process can print the whole front; a process
tuning something else is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")
optuna = pytest.importorskip("optuna")

SERVER = "host=127.0.0.1 port=5432 user=root dbname=test connect_timeout=3"


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database, dropped afterwards; its SQLAlchemy URL."""
    name = f"mockgc_tune_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(SERVER, autocommit=True)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL on 127.0.0.1:5432: {error}")
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://root@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tune_process(url: str, out: Path, budget: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "mockgc.cli", "tune", "-m", "backoff-verify", "-p", "seed-default", "-q"]
    command += ["--seeds", "1", "--sessions", "150", "--budget", str(budget), "-j", "1", "--out", str(out)]
    command += ["--storage", url, "--study", "shared"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_two_processes_share_one_study_without_duplicate_trials_and_any_prints_its_front(
    database: str, tmp_path: Path
) -> None:
    processes = [tune_process(database, tmp_path / name, 6) for name in ("a", "b")]
    outputs = [p.communicate(timeout=240)[0].decode() for p in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode in (0, 1), output
    study = optuna.load_study(study_name="shared", storage=database)
    trials = [t for t in study.trials if "record" in t.user_attrs]
    assert len(trials) == len(study.trials) == 12  # 6 each, all judged
    assert len({t.number for t in trials}) == 12
    by = {t.user_attrs["by"] for t in trials}
    assert len(by) == 2  # both processes judged some
    judged_once = [t for t in trials if "same_as" not in t.user_attrs["record"]]
    settings = [json.dumps(t.user_attrs["record"]["setting"], sort_keys=True) for t in judged_once]
    assert len(settings) == len(set(settings))  # no setting simulated twice
    assert study.user_attrs["plan"]["mitigation"] == "backoff-verify"

    # Any process can print the front of the whole study, adding nothing to it.
    reader = tune_process(database, tmp_path / "reader", 0)
    output = reader.communicate(timeout=120)[0].decode()
    assert reader.returncode in (0, 1), output
    document = json.loads((tmp_path / "reader" / "tune.json").read_text())
    assert sorted(t["number"] for t in document["trials"]) == sorted(t.number for t in trials)
    assert len(optuna.load_study(study_name="shared", storage=database).trials) == 12

    # A process tuning something else cannot join it.
    command = [sys.executable, "-m", "mockgc.cli", "tune", "-m", "retry", "-p", "seed-default", "-q", "--budget", "1"]
    command += ["--storage", database, "--study", "shared", "--out", str(tmp_path / "other")]
    other = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert other.returncode == 2, other.stdout + other.stderr
    assert "study 'shared' in the storage tunes backoff-verify on seed-default" in other.stdout + other.stderr
