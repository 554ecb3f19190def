"""The run's credentials kept out of --out: redacted log tails, every file scrubbed, links never followed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mockgc.live.procs import Children
from mockgc.live.redact import REDACTED, Secrets

ADMIN, CLIENT = "admin-key-0123456789", "client-secret-abcdefgh"


def test_the_environment_s_credentials_join_and_short_values_never_do() -> None:
    held = Secrets(["short", None, ""])
    held.add_environment(
        {
            "MOCKGC_ADMIN_KEY": ADMIN,
            "MOCKGC_CLIENT_SECRET": CLIENT,
            "MOCKGC_CLIENT_ID": "mockgc-client",
            "KEYBOARD": "x" * 9,
        }
    )
    text = f"id=mockgc-client secret={CLIENT} admin={ADMIN} short"
    assert held.redact(text) == f"id=mockgc-client secret={REDACTED} admin={REDACTED} short"


def test_every_file_under_out_is_scrubbed_and_links_are_not_followed(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    (out / "run").mkdir(parents=True)
    outside.write_text(f"not ours: {ADMIN}")
    (out / "mock.log").write_text(f"admin key: {ADMIN}\n")
    (out / "run" / "result.json").write_text(f'{{"log_tail": "secret={CLIENT}"}}')
    (out / "run" / "history.jsonl").write_bytes(b"\x00\xff binary " + CLIENT.encode())
    (out / "clean.txt").write_text("nothing here")
    (out / "link.txt").symlink_to(outside)
    os.chmod(out / "mock.log", 0o600)
    changed = Secrets([ADMIN, CLIENT]).scrub(out)
    assert sorted(p.name for p in changed) == ["history.jsonl", "mock.log", "result.json"]
    for path in (out / "mock.log", out / "run" / "result.json", out / "run" / "history.jsonl"):
        assert ADMIN.encode() not in path.read_bytes() and CLIENT.encode() not in path.read_bytes()
    assert (out / "run" / "result.json").read_text() == f'{{"log_tail": "secret={REDACTED}"}}'
    assert outside.read_text() == f"not ours: {ADMIN}"  # beyond a link: not ours to rewrite
    assert (out / "mock.log").stat().st_mode & 0o777 == 0o600


def test_a_childs_log_tail_is_redacted_as_it_is_read(tmp_path: Path) -> None:
    with Children() as children:
        code = "import os; print('secret=' + os.environ['MOCKGC_CLIENT_SECRET'], flush=True)"
        child = children.start(
            "talker",
            [sys.executable, "-c", code],
            tmp_path / "talker.log",
            env={**os.environ, "MOCKGC_CLIENT_SECRET": CLIENT},
        )
        child.wait(30)
        assert CLIENT in (tmp_path / "talker.log").read_text()  # the child's own log, until the run scrubs it
        assert child.log_tail() == f"secret={REDACTED}"
