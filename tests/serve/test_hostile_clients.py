"""Clients that misbehave at the connection level: oversized headers, headers or bodies that never finish,
too many connections, responses left unread. Each is cut off with a clear status, and the others are served.

These tests speak raw sockets, because a well-behaved HTTP client library cannot send what they send.
"""

import json
import socket
import threading
import time

import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
from tests.serve.conftest import infer_json  # noqa: E402


def connect(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(10)
    return sock


def read_status(sock):
    """The status code of the response on sock (None if the server closed without answering)."""
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        received += chunk
    return int(received.split(b" ")[1])


def health(server):
    sock = connect(server)
    sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
    status = read_status(sock)
    sock.close()
    return status


def test_an_oversized_header_is_431_before_the_server_reads_it_all(repository_root, start_server):
    server = start_server(repository_root, max_header_bytes=16 * 1024)
    sock = connect(server)
    sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
    assert read_status(sock) == 431
    sock.close()


def test_a_client_streaming_tens_of_mib_of_header_is_cut_off_and_others_are_served(repository_root, start_server):
    server = start_server(repository_root)
    sent, outcome = [0], []

    def attacker():
        sock = connect(server)
        try:
            sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: ")
            for _ in range(30 * 16):  # 30 MiB of one header
                sock.sendall(b"a" * 65536)
                sent[0] += 65536
            sock.sendall(b"\r\n\r\n")
            outcome.append(read_status(sock))
        except OSError as error:
            outcome.append(type(error).__name__)
        finally:
            sock.close()

    thread = threading.Thread(target=attacker)
    thread.start()
    answers = [health(server) for _ in range(20)]
    thread.join(timeout=60)
    assert answers == [200] * 20
    assert outcome and outcome[0] != 200  # refused (431, or the connection cut while it kept sending)
    assert sent[0] < 8 * 1024 * 1024  # the server stopped taking bytes long before the 30 MiB


def test_headers_that_never_finish_get_408_and_the_connection_closes(repository_root, start_server):
    server = start_server(repository_root, header_timeout=0.5)
    sock = connect(server)
    sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localh")  # ... and nothing more
    assert read_status(sock) == 408
    while sock.recv(4096):  # the rest of the answer, then the server hangs up (a timeout here would fail)
        pass
    sock.close()


def test_a_connection_that_sends_nothing_is_closed(repository_root, start_server):
    server = start_server(repository_root, header_timeout=0.5)
    sock = connect(server)
    assert read_status(sock) == 408


def test_a_body_that_never_finishes_gets_408(repository_root, start_server):
    server = start_server(repository_root, body_timeout=0.5)
    sock = connect(server)
    sock.sendall(
        b"POST /v2/models/tiny/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"inputs": ['
    )  # 12 of 1000 bytes, then a stall
    assert read_status(sock) == 408
    sock.close()
    assert health(server) == 200


def test_a_declared_body_above_the_limit_is_413_without_reading_it(repository_root, start_server):
    server = start_server(repository_root, max_body_bytes=4096)
    sock = connect(server)
    sock.sendall(b"POST /v2/models/tiny/infer HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000000\r\n\r\n")
    assert read_status(sock) == 413


def test_too_many_connections_from_one_address_get_503(repository_root, start_server):
    server = start_server(repository_root, max_connections_per_client=3)
    held = [connect(server) for _ in range(3)]
    extra = connect(server)
    assert read_status(extra) == 503
    for sock in held:
        sock.close()
    time.sleep(0.2)
    assert health(server) == 200  # places free again once connections close


def test_garbage_is_400_and_does_not_disturb_the_server(repository_root, start_server):
    server = start_server(repository_root)
    sock = connect(server)
    sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n")
    assert read_status(sock) == 400
    status, _, body = server.request("POST", "/v2/models/tiny/infer", infer_json())
    assert status == 200 and json.loads(body)["model_name"] == "tiny"


def test_a_response_left_unread_is_dropped_after_the_write_timeout():
    import asyncio

    from tinygrad_maas.serve.http import protocol_for
    from tinygrad_maas.serve.settings import ServerSettings

    class Transport:
        aborted = False

        def abort(self):
            self.aborted = True

    class Flow:
        def pause_writing(self):
            pass

    async def scenario():
        protocol_class = protocol_for(ServerSettings(write_timeout=0.05))
        protocol = protocol_class.__new__(protocol_class)  # the connection's state without a real socket
        protocol.loop, protocol.transport, protocol.flow = asyncio.get_running_loop(), Transport(), Flow()
        protocol._write_timer = None
        protocol.pause_writing()  # the client stopped reading: the transport's buffer is full
        await asyncio.sleep(0.2)
        return protocol.transport.aborted

    assert asyncio.run(scenario())


def test_a_request_whose_blank_line_straddles_two_packets_is_served(repository_root, start_server):
    server = start_server(repository_root, max_header_bytes=1024)
    sock = connect(server)
    sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r")
    time.sleep(0.1)
    sock.sendall(b"\n")
    assert read_status(sock) == 200
    sock.close()
