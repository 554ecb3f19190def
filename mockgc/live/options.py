"""How a live run is carried out: which mock, its credentials, where the output goes, Locust's master address.

What the run *is* lives in the spec (mockgc/spec/runspec.py); these options never enter config.json.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mockgc.spec.runspec import RunSpec


@dataclass(frozen=True)
class LiveOptions:
    out: Path = Path("runs/run")
    target: str | None = None  # a running mock to load instead of starting one
    admin_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    rate_limited: bool = False  # load with the given (rate-limited) client instead of an unthrottled one
    threads: int = 16  # the started mock's server threads
    locustfile: str | None = None
    startup_timeout: float = 60.0
    master_bind: str = "127.0.0.1"
    master_port: int = 0  # 0: a free port (only useful without remote workers)
    # A command that restarts the user's own service or store between the two read-backs (durable after
    # a redeploy too); run without a shell, it must return once the service answers again.
    restart_cmd: str | None = None

    def validate(self, spec: RunSpec) -> LiveOptions:
        if spec.remote_workers and not self.target:
            raise ValueError("--remote-workers needs --target: a mock the other machines can reach")
        if spec.remote_workers and not self.master_port:
            raise ValueError("--remote-workers needs --master-port, the port the workers connect to")
        if self.target and urlsplit(self.target).scheme not in ("http", "https"):
            raise ValueError(f"--target {self.target} has no scheme: give the URL whole, e.g. http://{self.target}")
        if self.target and not self.admin_key:
            raise ValueError("--target needs --admin-key (the run resets the mock and reads its ground truth)")
        if self.rate_limited and self.target and not self.client_secret:
            raise ValueError("--rate-limited with --target needs --client-secret")
        if self.restart_cmd is not None:
            try:
                argv = shlex.split(self.restart_cmd)
            except ValueError as error:
                raise ValueError(f"--restart-cmd {self.restart_cmd!r}: {error}") from None
            if not argv:
                raise ValueError("--restart-cmd is empty")
        return self
