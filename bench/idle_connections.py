"""10,000 idle connections held open against `mockgc serve` while normal traffic goes on (`make bench`)."""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil
import requests

from bench.http_hot_path import percentile
from mockgc.platform.serve.server import raise_open_file_limit

ADMIN_KEY = "bench-admin"
CLIENT_SECRET = "bench-secret"


@dataclass(frozen=True)
class Config:
    idle: int = 10_000
    requests: int = 600  # normal Set Data PUTs per phase, on one keep-alive connection
    startup_timeout: float = 60.0


@dataclass(frozen=True)
class Phase:
    answered: int
    rps: float
    latencies: list[float]

    def line(self, label: str) -> str:
        return (
            f"   {label:<28} {self.answered} answered, {self.rps:.0f} req/s, "
            f"p50 {percentile(self.latencies, 50) * 1000:.2f} ms, p99 {percentile(self.latencies, 99) * 1000:.2f} ms"
        )


def set_data_traffic(url: str, count: int) -> Phase:
    """Log in, open a script session, and PUT its variable `count` times (each must be a 200)."""
    with requests.Session() as http:
        token = http.post(
            f"{url}/oauth/token", data={"grant_type": "client_credentials"}, auth=("mockgc-client", CLIENT_SECRET)
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        user = http.get(f"{url}/api/v2/users", timeout=30).json()["entities"][0]["id"]
        call = http.post(f"{url}/api/v2/conversations/calls", json={"callUserId": user}, timeout=30).json()
        session = http.post(
            f"{url}/api/v2/scripts/sessions", json={"userId": user, "conversationId": call["id"]}, timeout=30
        ).json()
        path = f"{url}/api/v2/scripts/sessions/{session['id']}/variables/preferenceCode"
        latencies: list[float] = []
        began = time.perf_counter()
        for index in range(count):
            sent = time.perf_counter()
            if http.put(path, json={"value": f"V{index}"}, timeout=30).status_code == 200:
                latencies.append(time.perf_counter() - sent)
        return Phase(len(latencies), len(latencies) / (time.perf_counter() - began), latencies)


def open_idle(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sockets.append(socket.create_connection(("127.0.0.1", port), timeout=30))
    return sockets


def still_open(sockets: list[socket.socket]) -> int:
    alive = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            alive += sock.recv(1) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def run(config: Config | None = None) -> bool:
    """Print the section; False only when the server died or failed normal requests."""
    config = config or Config()
    print(
        f"== Idle connections: {config.idle:,} held open against `mockgc serve` (granian) while "
        f"{config.requests} Set Data PUTs run, against the same PUTs with none open ==",
        flush=True,
    )
    began = time.perf_counter()
    limit = raise_open_file_limit()
    if limit < config.idle + 200:
        print(f"   skipped: this process may open only {limit} descriptors")
        return True
    env = dict(os.environ, MOCKGC_ADMIN_KEY=ADMIN_KEY, MOCKGC_CLIENT_SECRET=CLIENT_SECRET)
    server = subprocess.Popen(
        [sys.executable, "-m", "mockgc.cli", "serve", "--port", "0", "--rate-limit", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    idle: list[socket.socket] = []
    try:
        assert server.stdout is not None
        match = re.search(r"http://127\.0\.0\.1:(\d+)", server.stdout.readline())
        if not match:
            print("   BROKEN: the mock did not start")
            return False
        url, port = match.group(0), int(match.group(1))
        set_data_traffic(url, config.requests // 4)  # warm-up: first-request costs land in no phase
        without = set_data_traffic(url, config.requests)
        opened = time.perf_counter()
        idle = open_idle(port, config.idle)
        opened = time.perf_counter() - opened
        with_idle = set_data_traffic(url, config.requests)
        process = psutil.Process(server.pid)
        kept = still_open(idle)
        print(f"   opened {len(idle):,} idle connections in {opened:.1f} s; {kept:,} still open after the traffic")
        print(without.line("no idle connections:"))
        print(with_idle.line(f"{config.idle:,} idle connections:"))
        ratio = with_idle.rps / without.rps
        median_ratio = statistics.median(with_idle.latencies) / statistics.median(without.latencies)
        print(f"   ratio with/without idle: rate {ratio:.2f}, median latency {median_ratio:.2f}")
        print(
            f"   server: alive {server.poll() is None}, {process.num_fds():,} descriptors, "
            f"RSS {process.memory_info().rss / 2**20:.0f} MB, {process.num_threads()} threads"
        )
        ok = server.poll() is None and with_idle.answered == config.requests and kept == config.idle
        if not ok:
            print("   BROKEN: the server died, refused normal requests or dropped idle connections")
        return ok
    finally:
        for sock in idle:
            sock.close()
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
        print(f"   section took {time.perf_counter() - began:.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
