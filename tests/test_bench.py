"""The `make bench` HTTP benchmark: its keep-alive client's strictness and a short end-to-end run."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bench import idle_connections
from bench.http_hot_path import BenchError, Config, drive, percentile, raw_request, read_response, run


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    client.settimeout(5)
    yield client, server
    client.close()
    server.close()


def test_percentile_is_an_observed_value() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0, 1.0, 2.0], 99) == 3.0
    with pytest.raises(BenchError):
        percentile([], 50)


def test_raw_request_carries_the_body_length() -> None:
    request = raw_request("PUT", "/x", 8080, {"Content-Type": "application/json"}, b'{"value":"a"}')
    head, _, body = request.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"PUT /x HTTP/1.1"
    assert b"Content-Length: 13" in head.split(b"\r\n")
    assert body == b'{"value":"a"}'


def test_read_response_reads_one_answer_split_across_segments(pair: tuple[socket.socket, socket.socket]) -> None:
    client, server = pair
    server.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe")
    server.sendall(b"llo")
    assert read_response(client) == (200, b"hello")


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\n\r\nhello",
    ],
)
def test_read_response_rejects_answers_that_are_not_keep_alive(
    pair: tuple[socket.socket, socket.socket], answer: bytes
) -> None:
    client, server = pair
    server.sendall(answer)
    with pytest.raises(BenchError):
        read_response(client)


def test_read_response_notices_a_closed_connection(pair: tuple[socket.socket, socket.socket]) -> None:
    client, server = pair
    server.sendall(b"HTTP/1.1 200 OK\r\nContent-Le")
    server.close()
    with pytest.raises(BenchError, match="closed"):
        read_response(client)


def test_drive_breaks_on_a_non_200(pair: tuple[socket.socket, socket.socket]) -> None:
    client, server = pair
    server.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 4\r\n\r\nPREF")
    with pytest.raises(BenchError, match="answer 400"):
        drive(client, b"GET / HTTP/1.1\r\n\r\n", b"PREF", max_requests=5, seconds=5)


def test_drive_stops_at_the_request_count(pair: tuple[socket.socket, socket.socket]) -> None:
    client, server = pair
    # Only one answer is queued: a second request would wait out the socket timeout and fail.
    server.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nPREF")
    result = drive(client, b"GET / HTTP/1.1\r\n\r\n", b"PREF", max_requests=1, seconds=5)
    assert result["count"] == 1
    assert len(result["latencies"]) == 1
    assert server.recv(100) == b"GET / HTTP/1.1\r\n\r\n"


def test_a_short_run_prints_the_ratio_and_the_stall_check(capsys: pytest.CaptureFixture[str]) -> None:
    config = Config(
        connections=2, rounds=2, round_seconds=0.2, warmup_seconds=0.1, stall_requests=20, stall_seconds=0.5
    )
    assert run(config) is True
    out = capsys.readouterr().out
    assert "ratio hot_path granian/waitress (median of paired rounds)" in out
    assert "ratio hot_path cheroot/waitress (median of paired rounds)" in out
    assert "ratio hot_path/bare on granian (median of paired rounds)" in out
    assert "keep-alive stall check" in out
    for server in ("granian", "waitress", "cheroot"):
        assert f"instrumented hot_path@{server}: rate limit on (inin-ratelimit-allowed=1000000000)" in out


def test_a_short_idle_connections_run_answers_everything(capsys: pytest.CaptureFixture[str]) -> None:
    assert idle_connections.run(idle_connections.Config(idle=1200, requests=30)) is True
    out = capsys.readouterr().out
    assert "1,200 still open after the traffic" in out
    assert "1,200 idle connections:      30 answered" in out
