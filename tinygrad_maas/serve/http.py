"""The connection layer: uvicorn's httptools protocol with the limits it lacks, and the uvicorn server.

uvicorn bounds bodies only through the app and idle keep-alive connections only between requests. It does
not bound what it reads before the app sees a request: one client sending tens of MiB of headers keeps the
event loop busy in the HTTP parser (whose header buffer grows by copying) and freezes every other client
for seconds, before any token is checked; a client that opens connections and sends a byte now and then
(slowloris) holds them forever; a client that never reads its response holds its task forever. Here:

- request line + headers over max_header_bytes: 431 and the connection closes, before the bytes reach the
  parser (counted as they arrive; what follows is read and dropped for a moment so the client sees the 431);
- headers not complete header_timeout seconds after the connection opened or the request's first byte
  arrived: 408 and close;
- a body not complete body_timeout seconds after its headers: 408 and close (whether or not the app is
  reading it);
- a response left unread for write_timeout seconds: the connection is aborted;
- more than max_connections_per_client open connections from one address: 503 and close.

The body's size is bounded by the app (body.py); the number of connections in all, keep-alive and the
graceful shutdown by uvicorn's own settings, given here from ServerSettings.
"""

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

LINGER_SECONDS, LINGER_BYTES = 2.0, 1024 * 1024
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}


def _plain_response(status, message):
    body = message.encode("ascii", "replace")
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), body)
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    settings = None  # a ServerSettings, set by protocol_for()
    clients = None  # {client address: open connections}, shared by the connections of one server

    def connection_made(self, transport):
        super().connection_made(transport)
        self._head_bytes, self._reading_head, self._tail, self._discarded = 0, True, b"", None
        self._head_timer = self.loop.call_later(self.settings.header_timeout, self._head_too_slow)
        self._write_timer = self._body_timer = None
        self._address = self.client[0] if self.client else None
        self.clients[self._address] = self.clients.get(self._address, 0) + 1
        if self.clients[self._address] > self.settings.max_connections_per_client:
            self._refuse(503, f"more than {self.settings.max_connections_per_client} connections from one address")

    def connection_lost(self, exc):
        for timer in (self._head_timer, self._body_timer, self._write_timer):
            if timer is not None:
                timer.cancel()
        count = self.clients.get(self._address, 1) - 1
        if count:
            self.clients[self._address] = count
        else:
            self.clients.pop(self._address, None)
        super().connection_lost(exc)

    def data_received(self, data):
        if self._discarded is not None:  # refused: drain what the client still sends, up to a point
            self._discarded += len(data)
            if self._discarded > LINGER_BYTES:
                self.transport.abort()
            return
        if self._reading_head:
            if self._head_timer is None:  # the first byte of the next request on a kept-alive connection
                self._head_timer = self.loop.call_later(self.settings.header_timeout, self._head_too_slow)
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                counted = end + 4
            else:  # the blank line may straddle two chunks
                straddle = (self._tail + data[:3]).find(b"\r\n\r\n")
                counted = len(data) if straddle < 0 else straddle + 4 - len(self._tail)
            self._head_bytes += counted
            self._tail = data[-3:]
            if self._head_bytes > self.settings.max_header_bytes:
                self._refuse(431, f"the request line and headers exceed {self.settings.max_header_bytes} bytes")
                return
        super().data_received(data)

    def on_headers_complete(self):
        self._reading_head, self._head_bytes, self._tail = False, 0, b""
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        self._body_timer = self.loop.call_later(self.settings.body_timeout, self._body_too_slow)

    def on_message_complete(self):
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()
        self._reading_head = True

    def _body_too_slow(self):
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_started:
            self.cycle.disconnected = True  # the app's receive() now answers http.disconnect; its answer is dropped
            self.cycle.message_event.set()
            self._refuse(408, f"the request's body did not arrive within {self.settings.body_timeout:g} seconds")
        else:  # answered already, and the client is still sending the body it does not need
            self.transport.close()

    def _head_too_slow(self):
        self._head_timer = None
        if self._reading_head and not self.transport.is_closing():
            self._refuse(408, f"the request's headers did not arrive within {self.settings.header_timeout:g} seconds")

    def _refuse(self, status, message):
        """Answer and hang up. The close lingers (reading and dropping what the client still sends, for at most
        LINGER_SECONDS and LINGER_BYTES): closing a socket with unread input makes the kernel send a reset,
        which can destroy the answer before the client reads it."""
        if self.transport.is_closing() or self._discarded is not None:
            return
        self._discarded = 0
        self.transport.write(_plain_response(status, message))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def pause_writing(self):
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self.settings.write_timeout, self.transport.abort)

    def resume_writing(self):
        super().resume_writing()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None


def protocol_for(settings):
    """A protocol class bound to these settings, with its own per-address connection counts."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"settings": settings, "clients": {}})


def make_server(app, settings, host="127.0.0.1", port=8000, log_level="info", ssl_certfile=None, ssl_keyfile=None):
    """A uvicorn.Server running `app` with every limit of `settings` applied."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=protocol_for(settings),
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=settings.keep_alive_timeout,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        server_header=False,
        proxy_headers=False,
    )  # X-Forwarded-For is a client's claim: limits use the socket's address
    return uvicorn.Server(config)
