"""The Set Data hot path against a bare Flask "hello", on granian (mockgc.platform.serve.server) and the servers it was chosen over."""

from __future__ import annotations

import base64
import json
import math
import multiprocessing
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.client import HTTPConnection
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from flask import Flask, jsonify

from bench.servers import SERVERS
from mockgc.platform.http.app import create_app
from mockgc.platform.http.holder import PlatformHolder
from mockgc.platform.settings import Settings

TARGET_RATIO = 0.75
STALL_MS = 40.0  # gevent pywsgi's Nagle/delayed-ACK stall on keep-alive connections
HOT, BARE = "hot_path", "bare"
CHOSEN, BASELINE = "granian", "waitress"  # mockgc.platform.serve.server's server, and the one it replaced
UNBOUNDED = "granian-wsgi"  # granian's WSGI worker: faster, but a stalled body holds an app thread forever
VALUE = "PREF-0042"
ADMIN_KEY = "bench-admin"
CLIENT_SECRET = "bench-secret"


@dataclass(frozen=True)
class Config:
    """Every bound of a run; the defaults keep the whole section around 20 s on a 2-core box."""

    connections: int = 4  # keep-alive connections, one client process each
    rounds: int = 7  # timed rounds per target, alternating A,B then B,A
    round_seconds: float = 1.2
    round_max_requests: int = 20_000  # per connection, so a round is bounded by count as well as time
    warmup_seconds: float = 0.5
    stall_requests: int = 300
    stall_seconds: float = 1.5
    threads: int = Settings().server.threads  # the same thread count `mockgc serve` uses
    startup_timeout: float = 60.0
    hot_servers: tuple[str, ...] = (CHOSEN, UNBOUNDED, BASELINE, "cheroot")
    bare_servers: tuple[str, ...] = (CHOSEN, UNBOUNDED, BASELINE)

    def targets(self) -> list[tuple[str, str]]:
        return [(HOT, server) for server in self.hot_servers] + [(BARE, server) for server in self.bare_servers]


def target_name(kind: str, server: str) -> str:
    return f"{kind}@{server}"


class BenchError(RuntimeError):
    """The benchmark itself broke (a non-200, a closed connection, a process that died)."""


@dataclass(frozen=True)
class Target:
    """One server as the clients see it: a prebuilt request per connection and what a good body holds."""

    name: str
    port: int
    requests: list[bytes]
    expect: bytes


@dataclass(frozen=True)
class Round:
    rps: float
    latencies: list[float]

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: a latency that was really observed, not an interpolation."""
    if not values:
        raise BenchError("no latencies were recorded")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def raw_request(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 keep-alive request, built once so the client spends its CPU on nothing else."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("PUT", "POST"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Read exactly one answer; anything but a Content-Length keep-alive answer breaks the bench."""
    data = b""
    while (end := data.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise BenchError("the server closed the keep-alive connection")
        data += chunk
    status_line, *header_lines = data[:end].decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    length = None
    for line in header_lines:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif (name == "connection" and value == "close") or name == "transfer-encoding":
            raise BenchError(f"expected a keep-alive answer with Content-Length, got {line!r}")
    if length is None:
        raise BenchError("the answer has no Content-Length")
    body = data[end + 4 :]
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise BenchError("the server closed the connection mid-body")
        body += chunk
    if len(body) != length:
        raise BenchError("more bytes than one answer arrived on a sequential connection")
    return status, body


def drive(sock: socket.socket, request: bytes, expect: bytes, max_requests: int, seconds: float) -> dict[str, Any]:
    """Sequential requests on one connection until the count or the time runs out."""
    latencies: list[float] = []
    clock = time.perf_counter
    start = clock()
    deadline = start + seconds
    while len(latencies) < max_requests:
        sent = clock()
        if sent >= deadline:
            break
        sock.sendall(request)
        status, body = read_response(sock)
        latencies.append(clock() - sent)
        if status != 200 or expect not in body:
            raise BenchError(f"answer {status}: {body[:300]!r}")
    return {"count": len(latencies), "elapsed": clock() - start, "latencies": latencies}


# --- the two servers, each in its own process -------------------------------------------------


def bare_app() -> Flask:
    app = Flask("bare")

    @app.get("/hello")
    def hello() -> Any:
        return jsonify(message="hello")

    return app


def mock_app(connections: int) -> tuple[Flask, list[tuple[str, str, dict[str, str], bytes]]]:
    """The mock with rate limiting on (a limit too high to trip) and one script session per connection."""
    settings = Settings(admin_key=ADMIN_KEY, client_secret=CLIENT_SECRET, rate_limit_per_minute=10**9)
    app = create_app(settings)
    client = app.test_client()

    def expect(response: Any, status: int) -> Any:
        if response.status_code != status:
            raise BenchError(f"setup {response.request.path} answered {response.status_code}: {response.text[:300]}")
        return response.json

    basic = base64.b64encode(f"{settings.org.client_id}:{CLIENT_SECRET}".encode()).decode()
    token = expect(
        client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
        ),
        200,
    )["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    users = expect(client.get("/mock/info", headers={"Authorization": f"Bearer {ADMIN_KEY}"}), 200)["users"]
    specs = []
    body = json.dumps({"value": VALUE}).encode()
    for index in range(connections):
        agent_id = users[index % len(users)]["id"]
        call = expect(client.post("/api/v2/conversations/calls", json={"callUserId": agent_id}, headers=auth), 200)
        session = expect(
            client.post(
                "/api/v2/scripts/sessions", json={"userId": agent_id, "conversationId": call["id"]}, headers=auth
            ),
            201,
        )
        path = f"/api/v2/scripts/sessions/{session['id']}/variables/preferenceCode"
        specs.append(("PUT", path, {**auth, "Content-Type": "application/json"}, body))
    return app, specs


def serve(kind: str, server_name: str, connections: int, threads: int, control: Connection) -> None:
    """Server process: build the app, serve it with the named server, stop when told (or orphaned)."""
    try:
        if kind == HOT:
            app, specs = mock_app(connections)
            expect = VALUE.encode()
        else:
            app, specs = bare_app(), [("GET", "/hello", {}, b"")] * connections
            expect = b"hello"
        server = SERVERS[server_name](app, "127.0.0.1", 0, threads).start()
    except Exception as error:
        control.send(("error", f"{type(error).__name__}: {error}"))
        return
    requests = [raw_request(method, path, server.port, headers, body) for method, path, headers, body in specs]
    control.send(("ready", Target(target_name(kind, server_name), server.port, requests, expect)))
    with suppress(EOFError):  # EOF: the parent is gone, so stop anyway
        control.recv()
    stats: dict[str, int] = {}
    holder = app.extensions.get("mockgc")
    if isinstance(holder, PlatformHolder):
        journal = holder.journal
        stats = {"journal_kept": len(journal), "journal_dropped": journal.dropped}
    server.stop()
    with suppress(OSError):
        control.send(("stopped", stats))


def load(targets: dict[str, tuple[int, bytes, bytes]], control: Connection) -> None:
    """Client process: one persistent connection per target, driven when the parent says so."""
    sockets: dict[str, socket.socket] = {}
    try:
        while True:
            try:
                command = control.recv()
            except EOFError:
                return
            if command is None:
                return
            name, max_requests, seconds = command
            port, request, expect = targets[name]
            try:
                sock = sockets.get(name)
                if sock is None:
                    sock = sockets[name] = socket.create_connection(("127.0.0.1", port), timeout=30)
                control.send(("ok", drive(sock, request, expect, max_requests, seconds)))
            except Exception as error:
                control.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        for sock in sockets.values():
            sock.close()


# --- the parent: orchestration and the report ---------------------------------------------------


def receive(control: Connection, timeout: float, who: str) -> Any:
    if not control.poll(timeout):
        raise BenchError(f"{who} did not answer within {timeout:.0f} s")
    try:
        kind, payload = control.recv()
    except EOFError:
        raise BenchError(f"{who} exited without answering") from None
    if kind == "error":
        raise BenchError(f"{who}: {payload}")
    return payload


@contextmanager
def processes() -> Iterator[list[tuple[BaseProcess, Connection, Any]]]:
    """Started processes with their control pipes and a goodbye message; always ended on exit."""
    started: list[tuple[BaseProcess, Connection, Any]] = []
    try:
        yield started
    finally:
        for _process, control, goodbye in started:
            with suppress(OSError):
                control.send(goodbye)
        for process, control, _goodbye in started:
            process.join(timeout=15)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
            control.close()


def measure(clients: list[Connection], name: str, max_requests: int, seconds: float) -> Round:
    """All clients drive one target at once; req/s is the sum of each connection's own rate."""
    for control in clients:
        control.send((name, max_requests, seconds))
    results = [receive(control, seconds + 60, f"client {i}") for i, control in enumerate(clients)]
    rps = sum(r["count"] / r["elapsed"] for r in results if r["elapsed"] > 0)
    return Round(rps, [latency for r in results for latency in r["latencies"]])


def check_headers(target: Target) -> dict[str, str]:
    """One request through http.client: the hot path's answer carries the rate-limit headers."""
    connection = HTTPConnection("127.0.0.1", target.port, timeout=30)
    try:
        head, _, body = target.requests[0].partition(b"\r\n\r\n")
        method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ")
        headers = dict(line.decode("latin-1").split(": ", 1) for line in head.split(b"\r\n")[1:])
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200 or target.expect not in answer:
            raise BenchError(f"{target.name} check answered {response.status}: {answer[:300]!r}")
        return {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def run(config: Config | None = None) -> bool:
    """Print the section; True unless the benchmark broke (a missed target is reported, not failed)."""
    config = config or Config()
    context = multiprocessing.get_context("spawn")
    names = [target_name(kind, server) for kind, server in config.targets()]
    print(
        f"== HTTP hot path: Set Data PUT (mock, rate limit + journal on) vs bare Flask hello, by server ==\n"
        f"   {', '.join(names)}; each in its own process, {config.threads} threads; "
        f"{config.connections} keep-alive client processes; "
        f"{config.rounds} rounds of {config.round_seconds:g} s, the order reversed every other round",
        flush=True,
    )
    began = time.perf_counter()
    with processes() as started:
        servers: dict[str, Connection] = {}
        for kind, server in config.targets():
            parent, child = context.Pipe()
            process = context.Process(
                target=serve,
                args=(kind, server, config.connections, config.threads, child),
                name=f"bench-{kind}-{server}",
            )
            process.start()
            child.close()
            started.append((process, parent, "stop"))
            servers[target_name(kind, server)] = parent
        targets: dict[str, Target] = {
            name: receive(control, config.startup_timeout, f"{name} server") for name, control in servers.items()
        }
        headers = {name: check_headers(target) for name, target in targets.items()}

        clients: list[Connection] = []
        for index in range(config.connections):
            plan = {name: (t.port, t.requests[index], t.expect) for name, t in targets.items()}
            parent, child = context.Pipe()
            process = context.Process(target=load, args=(plan, child), name=f"bench-client-{index}")
            process.start()
            child.close()
            started.append((process, parent, None))
            clients.append(parent)

        warmup = {name: measure(clients, name, config.round_max_requests, config.warmup_seconds) for name in names}
        rounds: dict[str, list[Round]] = {name: [] for name in names}
        for number in range(config.rounds):
            # Reverse the order too, so a drift in machine load does not favour one side.
            for name in names if number % 2 == 0 else names[::-1]:
                rounds[name].append(measure(clients, name, config.round_max_requests, config.round_seconds))
        stall = {name: measure(clients[:1], name, config.stall_requests, config.stall_seconds) for name in names}
        server_stats = {}
        for name, control in servers.items():
            control.send("stop")
            server_stats[name] = receive(control, 30, f"{name} server")
    report(config, rounds, stall)
    ok = True
    for server in config.hot_servers:
        name = target_name(HOT, server)
        sent = 1 + sum(len(r.latencies) for r in (warmup[name], *rounds[name], stall[name]))
        ok = check_instrumented(name, headers[name], server_stats[name], sent) and ok
    print(f"   section took {time.perf_counter() - began:.1f} s")
    return ok


def check_instrumented(name: str, hot_headers: dict[str, str], journal: dict[str, int], sent: int) -> bool:
    """The hot path counts only with its rate limiter and journal really in the way."""
    allowed = hot_headers.get("inin-ratelimit-allowed")
    recorded = journal.get("journal_kept", 0) + journal.get("journal_dropped", 0)
    print(
        f"   instrumented {name}: rate limit {'on' if allowed else 'OFF'} (inin-ratelimit-allowed={allowed}), "
        f"journal recorded {recorded} requests for {sent} hot-path requests sent"
    )
    if not allowed or recorded < sent:
        print("   BROKEN: the hot path ran without its rate limiter or journal", file=sys.stderr)
        return False
    return True


def paired_ratio(rounds: dict[str, list[Round]], top: str, bottom: str) -> float:
    """The median over rounds of top's rate over bottom's in the same round."""
    return statistics.median(t.rps / b.rps for t, b in zip(rounds[top], rounds[bottom], strict=True))


def report(config: Config, rounds: dict[str, list[Round]], stall: dict[str, Round]) -> None:
    names = list(rounds)
    print("   round   " + "   ".join(f"{name:>18}" for name in names) + "   (req/s)")
    for number in range(config.rounds):
        print(f"   {number + 1:>5}   " + "   ".join(f"{rounds[name][number].rps:>18.0f}" for name in names))
    for name in names:
        print(
            f"   {name:<18} median {statistics.median(r.rps for r in rounds[name]):>7.0f} req/s, "
            f"p99 {statistics.median(r.p99_ms for r in rounds[name]):>6.2f} ms, "
            f"1-connection p50 {stall[name].p50_ms:.2f} ms"
        )
    for kind, servers in ((HOT, config.hot_servers), (BARE, config.bare_servers)):
        for base in (BASELINE, UNBOUNDED):
            if base not in servers:
                continue
            for server in servers:
                if server != base and (base == BASELINE or server == CHOSEN):
                    ratio = paired_ratio(rounds, target_name(kind, server), target_name(kind, base))
                    print(f"   ratio {kind} {server}/{base} (median of paired rounds): {ratio:.2f}")
    if CHOSEN in config.hot_servers and CHOSEN in config.bare_servers:
        ratio = paired_ratio(rounds, target_name(HOT, CHOSEN), target_name(BARE, CHOSEN))
        verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
        print(
            f"   ratio hot_path/bare on {CHOSEN} (median of paired rounds): {ratio:.2f}  "
            f"(target >= {TARGET_RATIO}: {verdict})"
        )
    worst = max(r.p50_ms for r in stall.values())
    print(
        f"   keep-alive stall check (1 connection, sequential): worst p50 {worst:.2f} ms  "
        f"(a Nagle/delayed-ACK stall shows as ~{STALL_MS:.0f} ms: {'none' if worst < STALL_MS / 4 else 'SUSPECT'})"
    )


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
