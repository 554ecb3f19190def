"""The HTTP server under the mock and the worker: thousands of idle connections, its own error answers, clean stops."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
import requests
from flask import Flask, Response, request

from mockgc.flows.mitigations.async_worker import WorkerConfig
from mockgc.platform.domain.standard_webhooks import Verifier, new_secret
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import UNTRUSTED_BODY_LIMIT, ServerThread, raise_open_file_limit
from mockgc.platform.settings import Settings
from mockgc.stores import MemoryStore
from mockgc.worker.app import create_worker_app
from mockgc.worker.engine import RepairWorker
from mockgc.worker.service import ReauthTransport, WorkerService
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET

IDLE = 3000  # far past the 1,024 descriptors where waitress's select() loop died
PLATFORM_BODY = {"message", "code", "status", "contextId"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module", autouse=True)
def descriptors() -> None:
    # The test holds IDLE sockets itself (the server holds as many in its own process).
    if raise_open_file_limit() < IDLE + 500:
        pytest.skip(f"the descriptor limit ({resource.getrlimit(resource.RLIMIT_NOFILE)}) is too low here")


@contextmanager
def process(
    argv: list[str], pattern: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A mockgc command as a real process; yields it and the URL it announced. SIGTERM must stop it cleanly."""
    child = subprocess.Popen(
        [sys.executable, "-m", "mockgc.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, **(env or {})),
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        match = re.search(pattern, line)
        assert match, line + child.stdout.read()
        yield child, match.group(0)
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=20)
        assert child.returncode == 0, output
        assert "Traceback" not in output, output
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


@contextmanager
def idle_connections(url: str, count: int) -> Iterator[list[socket.socket]]:
    host, port = url.removeprefix("http://").split(":")
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection((host, int(port)), timeout=10))
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def still_open(sockets: list[socket.socket]) -> int:
    """How many of these connections the server has not closed (nothing to read, no EOF)."""
    open_count = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            open_count += sock.recv(1) != b""
        except BlockingIOError:
            open_count += 1
        except OSError:
            pass
    return open_count


def raw(server_url: str, data: bytes, timeout: float = 10) -> bytes:
    """Send bytes on a fresh connection and read the answer until the server closes or goes quiet."""
    host, port = server_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            answer += chunk
            head, sep, body = answer.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: (\d+)", head)
            if sep and length and len(body) >= int(length.group(1)):
                break
    return answer


def status_and_body(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


def token(url: str, secret: str, client_id: str = "mockgc-client") -> dict[str, str]:
    reply = requests.post(
        f"{url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10
    )
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def test_served_mock_answers_with_thousands_of_idle_connections_open() -> None:
    argv = ["serve", "--port", "0", "--client-secret", "idle-secret", "--admin-key", "idle-admin", "--profile", "fast"]
    with process(argv, r"http://127\.0\.0\.1:\d+") as (child, url):
        # The server lifted its own descriptor limit to the hard one.
        soft, hard = psutil.Process(child.pid).rlimit(psutil.RLIMIT_NOFILE)
        assert soft == hard
        with idle_connections(url, IDLE) as idle:
            auth = token(url, "idle-secret")
            users = requests.get(f"{url}/api/v2/users?pageSize=50", headers=auth, timeout=10)
            assert users.status_code == 200 and len(users.json()["entities"]) == 50
            user = users.json()["entities"][0]["id"]
            call = requests.post(
                f"{url}/api/v2/conversations/calls", json={"callUserId": user}, headers=auth, timeout=10
            )
            session = requests.post(
                f"{url}/api/v2/scripts/sessions",
                json={"userId": user, "conversationId": call.json()["id"]},
                headers=auth,
                timeout=10,
            ).json()
            path = f"{url}/api/v2/scripts/sessions/{session['id']}/variables/preferenceCode"
            with requests.Session() as keep_alive:
                for index in range(50):
                    assert (
                        keep_alive.put(path, json={"value": f"V{index}"}, headers=auth, timeout=10).status_code == 200
                    )
            assert child.poll() is None
            assert psutil.Process(child.pid).num_fds() > IDLE
            assert still_open(idle) == IDLE


def test_served_worker_answers_with_thousands_of_idle_connections_open(
    live_server: ServerThread, tmp_path: Path
) -> None:
    argv = ["worker", "--target", live_server.url, "--store", "memory://", "--port", "0"]
    env = {
        "MOCKGC_CLIENT_ID": CLIENT_ID,
        "MOCKGC_CLIENT_SECRET": CLIENT_SECRET,
        "MOCKGC_WEBHOOK_SECRET": "whsec_aWRsZS1jb25uZWN0aW9ucy10ZXN0LXNlY3JldC0zMmI=",
    }
    with process(argv, r"http://127\.0\.0\.1:\d+", env) as (child, url), idle_connections(url, IDLE) as idle:
        for _ in range(20):
            assert requests.get(f"{url}/status", timeout=10).status_code == 200
        assert requests.post(f"{url}/webhook", json={"eventBody": {}}, timeout=10).status_code == 401  # unsigned
        assert child.poll() is None
        assert still_open(idle) == IDLE


@pytest.fixture(scope="module")
def mock() -> Iterator[ServerThread]:
    settings = Settings(agents=5, profile="fast", admin_key=ADMIN_KEY, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with ServerThread(create_app(settings)) as server:
        yield server


@pytest.mark.parametrize(
    ("name", "request_bytes"),
    [
        ("body over the limit", b"PUT /api/v2/users HTTP/1.1\r\nHost: x\r\nContent-Length: 600000\r\n\r\n"),
        ("unknown method", b"BREW /api/v2/users HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("a header of 100 kB", b"GET /mock/info HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"),
        ("a path of 50 kB", b"GET /mock/" + b"a" * 50_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("HTTP/1.1 without Host", b"GET /mock/info HTTP/1.1\r\n\r\n"),
        ("an absolute URI", b"GET http://elsewhere/mock/info HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("merged slashes", b"GET /api/v2//users HTTP/1.1\r\nHost: x\r\n\r\n"),
    ],
)
def test_odd_requests_the_server_hands_to_the_app_get_the_platform_error_body(
    mock: ServerThread, name: str, request_bytes: bytes
) -> None:
    status, headers, body = status_and_body(raw(mock.url, request_bytes))
    assert 400 <= status < 500, name
    assert headers["content-type"] == "application/json", name
    error = json.loads(body)
    assert set(error) >= PLATFORM_BODY and error["status"] == status, name


@pytest.mark.parametrize(
    ("name", "request_bytes", "expected"),
    [
        ("no request line", b"GARBAGE\r\n\r\n", 400),
        ("an unknown HTTP version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400),
        (
            "a Content-Length that is no number",
            b"PUT /api/v2/users HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n",
            400,
        ),
        ("a space in a header name", b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 400),
        (
            "more than 100 headers",
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(120)) + b"\r\n",
            431,
        ),
        ("a head over the server's buffer", b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n", 431),
        ("a request line of 100 kB", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ],
)
def test_what_the_server_refuses_by_itself_gets_a_status_and_a_closed_connection(
    mock: ServerThread, name: str, request_bytes: bytes, expected: int
) -> None:
    """hyper answers these before any app runs (no hook lets the app answer): README, Limits."""
    status, headers, body = status_and_body(raw(mock.url, request_bytes))
    assert (status, headers.get("connection"), body) == (expected, "close", b""), name
    assert requests.get(f"{mock.url}/mock/info", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10).ok


def test_an_encoded_slash_in_an_id_is_not_found_not_redirected(mock: ServerThread) -> None:
    auth = token(mock.url, CLIENT_SECRET, CLIENT_ID)
    user = requests.get(f"{mock.url}/api/v2/users", headers=auth, timeout=10).json()["entities"][0]["id"]
    call = requests.post(f"{mock.url}/api/v2/conversations/calls", json={"callUserId": user}, headers=auth, timeout=10)
    session = requests.post(
        f"{mock.url}/api/v2/scripts/sessions",
        json={"userId": user, "conversationId": call.json()["id"]},
        headers=auth,
        timeout=10,
    ).json()["id"]
    # `{session}%2F` decodes to `{session}/`: merged slashes used to 308 to the session's own variable.
    for path in (
        f"/api/v2/scripts/sessions/{session}%2F/variables/preferenceCode",
        f"/api/v2/users/{user}%2F/routingstatus",
        f"/api/v2/users/%2F{user}/routingstatus",
        "/api/v2/users/",
    ):
        reply = (
            requests.put(f"{mock.url}{path}", json={"value": "X"}, headers=auth, timeout=10, allow_redirects=False)
            if "variables" in path
            else requests.get(f"{mock.url}{path}", headers=auth, timeout=10, allow_redirects=False)
        )
        assert reply.status_code == 404, (path, reply.status_code, reply.text[:200])
        assert reply.headers["Content-Type"] == "application/json" and reply.json()["code"] == "not.found"
    assert (
        requests.get(f"{mock.url}/api/v2/scripts/sessions/{session}", headers=auth, timeout=10).json()["variables"]
        == {}
    )


def test_accepted_connections_get_tcp_nodelay_from_the_listener() -> None:
    """granian sets TCP_NODELAY nowhere itself: without it on the listener, keep-alive answers stall ~40 ms."""
    app = Flask("nodelay")
    with ServerThread(app) as server:
        assert server._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_servers_start_and_stop_cleanly_leaving_no_descriptor_or_thread() -> None:
    app = Flask("cycles")

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    def cycle() -> int:
        with ServerThread(app, threads=2) as server, requests.Session() as http:
            assert http.get(f"{server.url}/ping", timeout=10).text == "pong"
            return server.port

    cycle()  # granian's one-time setup
    fds, threads = psutil.Process().num_fds(), threading.active_count()
    ports = [cycle() for _ in range(5)]
    assert psutil.Process().num_fds() <= fds and threading.active_count() <= threads
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{ports[-1]}/ping", timeout=5)


def test_a_half_sent_request_holds_no_thread() -> None:
    """Slowloris: more stalled request heads than server threads, and a normal request is still answered."""
    app = Flask("slow")

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    with ServerThread(app, threads=2) as server:
        stalled = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(10)]
        try:
            for sock in stalled:
                sock.sendall(b"GET /ping HTTP/1.1\r\nHo")
            # Were each stalled head holding a thread, this would wait for the 30 s read timeout.
            assert requests.get(f"{server.url}/ping", timeout=10).text == "pong"
        finally:
            for sock in stalled:
                sock.close()


# -- stalled request bodies (issue 19): a body that stops coming must not hold a thread ------------------------

STALLED = 200
SHORT_DEADLINE = 1.5  # the test's body deadline; the server's default is BODY_READ_TIMEOUT_SECONDS
GENEROUS = 30.0  # how long the test waits for any answer: no timing is asserted beyond it


def stall_bodies(port: int, head: bytes, count: int) -> list[socket.socket]:
    """Connections that send a request head announcing 1,000 bytes of body, and then a few of them only."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=GENEROUS)
        sock.sendall(head + b"Content-Length: 1000\r\n\r\ngrant_type=")
        sockets.append(sock)
    return sockets


def answer_and_close(sock: socket.socket) -> int:
    """The status the server answered a stalled body with; asserts the server then closed the connection."""
    sock.settimeout(GENEROUS)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    status, headers, body = status_and_body(data)
    assert headers.get("connection") == "close" and json.loads(body)["status"] == status
    return status


def test_the_mock_answers_while_200_stalled_bodies_are_open_and_closes_each_at_the_deadline() -> None:
    settings = Settings(agents=5, profile="fast", admin_key=ADMIN_KEY, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with ServerThread(create_app(settings), body_timeout=SHORT_DEADLINE) as server:
        auth = token(server.url, CLIENT_SECRET, CLIENT_ID)
        threads = threading.active_count()
        head = b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        stalled = stall_bodies(server.port, head, STALLED)
        # A caller with a token stalls too: the deadline is for everyone.
        stalled += stall_bodies(server.port, head.replace(b"Host: x\r\n", f"Host: x\r\n{_header(auth)}".encode()), 5)
        try:
            # Every app thread would be held by now without the bridge (the issue's 16 sockets did it).
            assert requests.get(f"{server.url}/api/v2/docs/openapi.json", timeout=GENEROUS).status_code == 200
            users = requests.get(f"{server.url}/api/v2/users", headers=auth, timeout=GENEROUS)
            assert users.status_code == 200
            assert requests.get(f"{server.url}/mock/info", headers=ADMIN, timeout=GENEROUS).status_code == 200
            # The pool is fixed: stalled bodies add no thread.
            assert threading.active_count() <= threads
            statuses = [answer_and_close(sock) for sock in stalled]
        finally:
            for sock in stalled:
                sock.close()
        # At most UNTRUSTED_BODY_LIMIT strangers were read at once (408 at the deadline); the rest were
        # answered 503 at once, unread; the callers with a token were read and timed out too.
        assert statuses.count(408) == UNTRUSTED_BODY_LIMIT + 5
        assert statuses.count(503) == STALLED - UNTRUSTED_BODY_LIMIT
        assert server.bridge.untrusted_reading == 0
        # Once the stalls are answered, strangers log in again.
        assert token(server.url, CLIENT_SECRET, CLIENT_ID)


def test_the_worker_answers_while_200_stalled_webhook_bodies_are_open(live_server: ServerThread) -> None:
    worker = RepairWorker(MemoryStore(), WorkerConfig(), verifier=Verifier(new_secret(), time.time))
    transport = ReauthTransport(live_server.url, CLIENT_ID, CLIENT_SECRET)
    service = WorkerService(worker, transport, check_transport=transport)
    with ServerThread(create_worker_app(service), threads=4, body_timeout=SHORT_DEADLINE) as server:
        threads = threading.active_count()
        head = b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        stalled = stall_bodies(server.port, head, STALLED)
        try:
            for _ in range(10):
                assert requests.get(f"{server.url}/status", timeout=GENEROUS).status_code == 200
            assert threading.active_count() <= threads
            statuses = [answer_and_close(sock) for sock in stalled]
        finally:
            for sock in stalled:
                sock.close()
        assert sorted(set(statuses)) == [408, 503] and statuses.count(408) == UNTRUSTED_BODY_LIMIT
        # A delivery after the stalls is read and judged as before (401: it is not signed).
        assert requests.post(f"{server.url}/webhook", json={"eventBody": {}}, timeout=GENEROUS).status_code == 401


def test_a_chunked_body_is_held_to_the_same_deadline_and_size_limit() -> None:
    app = Flask("chunked")
    app.config["MAX_CONTENT_LENGTH"] = 1000

    @app.post("/echo")
    def echo() -> str:
        return str(len(request.get_data()))

    with ServerThread(app, threads=2, body_timeout=SHORT_DEADLINE) as server:
        head = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        assert status_and_body(raw(server.url, head + b"5\r\nhello\r\n0\r\n\r\n"))[2] == b"5"
        with socket.create_connection(("127.0.0.1", server.port), timeout=GENEROUS) as sock:
            sock.sendall(head + b"5\r\nhello\r\n")  # and no more
            assert answer_and_close(sock) == 408
        too_big = head + b"".join(b"3e8\r\n" + b"a" * 1000 + b"\r\n" for _ in range(2)) + b"0\r\n\r\n"
        assert status_and_body(raw(server.url, too_big))[0] == 413


def _header(auth: dict[str, str]) -> str:
    return "".join(f"{name}: {value}\r\n" for name, value in auth.items())


def test_answers_in_pieces_cut_short_or_to_a_head_reach_the_client_as_the_app_gives_them() -> None:
    """The bridge's three ways to answer: a body in one piece, a body in pieces as the app yields them
    (the truth's stream, a slow_body toxic), and a body cut short of its Content-Length (reset_peer)."""
    app = Flask("pieces")

    @app.get("/stream")
    def stream() -> Response:
        def pieces() -> Iterator[str]:
            for index in range(5):
                yield f"piece {index};"

        return Response(pieces(), mimetype="text/plain")

    @app.get("/measured")
    def measured() -> Response:
        return Response(iter([b"ab", b"cd", b"ef"]), headers={"Content-Length": "6"})

    @app.get("/cut")
    def cut() -> Response:
        return Response([b"only this"], headers={"Content-Length": "100"})

    with ServerThread(app, threads=2) as server, requests.Session() as http:
        assert http.get(f"{server.url}/stream", timeout=10).text == "".join(f"piece {i};" for i in range(5))
        assert http.get(f"{server.url}/measured", timeout=10).content == b"abcdef"
        head = http.head(f"{server.url}/measured", timeout=10)
        assert head.status_code == 200 and head.headers["Content-Length"] == "6" and head.content == b""
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            http.get(f"{server.url}/cut", timeout=10)
        # The connection the cut answer broke is gone; the next request works on a fresh one.
        assert http.get(f"{server.url}/measured", timeout=10).content == b"abcdef"
