"""Every limit and timeout of the server in one place, each with a safe default.

A server is an attack surface: a limit without a default is a limit nobody sets. The command line
(`tinygrad-maas serve --help`) exposes each field as a flag of the same name with the help text below;
docs/serving.md (Security) explains what each one protects against.
"""

import dataclasses
import os


def _physical_memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        return 4 * 1024**3


def _setting(default, help):
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    # --- connections (serve/http.py, uvicorn) -------------------------------------------------------------
    max_header_bytes: int = _setting(64 * 1024, "bytes of request line + headers; more is answered 431 and closed")
    header_timeout: float = _setting(
        10.0,
        "seconds from a connection's (or a request's) first byte to the end of "
        "its headers; slower is answered 408 and closed",
    )
    body_timeout: float = _setting(30.0, "seconds to receive a whole body once the headers are in; 408 after")
    write_timeout: float = _setting(30.0, "seconds a client may leave a response unread before it is hung up on")
    keep_alive_timeout: float = _setting(5.0, "seconds an idle keep-alive connection stays open")
    max_connections: int = _setting(1024, "open connections in all; more get 503")
    max_connections_per_client: int = _setting(128, "open connections from one IP address; more get 503")
    shutdown_timeout: float = _setting(30.0, "seconds requests in flight get to finish on shutdown")
    # --- requests ------------------------------------------------------------------------------------------
    max_body_bytes: int = _setting(16 * 1024 * 1024, "request body bytes; more is answered 413")
    request_timeout: float = _setting(60.0, "seconds from routing to the response; 503 after that")
    max_explain_steps: int = _setting(256, "integrated-gradients steps a client may ask for")
    max_texts_per_request: int = _setting(2048, "strings one request may ask a text model to embed")
    max_completion_tokens: int = _setting(1024, "tokens one /v1/completions request may ask for")
    max_open_streams: int = _setting(64, "streamed completions open at once; more get 503")
    stream_timeout: float = _setting(300.0, "seconds a streamed completion may last; it ends with an error event")
    # --- scheduling defaults (a model's config.json overrides them; serve/config.py) -----------------------
    max_batch_size: int = _setting(32, "rows per merged forward pass; 1: every request alone")
    max_queue_delay_us: int = _setting(0, "microseconds a batch may wait to fill (0: it takes what is queued)")
    max_queue_size: int = _setting(256, "requests waiting per model version; more get 503")
    queue_timeout_us: int = _setting(30_000_000, "microseconds a request may wait in a queue; 503 after that")
    # --- the repository (serve/repository.py) --------------------------------------------------------------
    model_control_mode: str = _setting(
        "poll",
        "poll: follow the repository on disk; explicit: the load/unload API (admin scope); none: load at start only",
    )
    poll_seconds: float = _setting(5.0, "how often poll mode looks at the disk")
    memory_budget_bytes: int = dataclasses.field(
        default_factory=lambda: _physical_memory_bytes() // 2,
        metadata={
            "help": "bytes of weights kept loaded; the least recently used versions are unloaded to make "
            "room, and load again on their next request (default: half the machine's memory)"
        },
    )
    max_architecture_bytes: int = _setting(1024 * 1024, "bytes of a model's architecture.json")

    def __post_init__(self):
        positive = (
            "max_header_bytes",
            "header_timeout",
            "body_timeout",
            "write_timeout",
            "keep_alive_timeout",
            "max_connections",
            "max_connections_per_client",
            "shutdown_timeout",
            "max_body_bytes",
            "request_timeout",
            "max_explain_steps",
            "max_texts_per_request",
            "max_completion_tokens",
            "max_open_streams",
            "stream_timeout",
            "max_batch_size",
            "max_queue_size",
            "queue_timeout_us",
            "poll_seconds",
            "memory_budget_bytes",
            "max_architecture_bytes",
        )
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                hint = " (to stop polling, use model_control_mode 'none')" if name == "poll_seconds" else ""
                raise ValueError(f"{name} must be a positive number, got {value!r}{hint}")
        if (
            isinstance(self.max_queue_delay_us, bool)
            or not isinstance(self.max_queue_delay_us, int)
            or self.max_queue_delay_us < 0
        ):
            raise ValueError(f"max_queue_delay_us must be a non-negative integer, got {self.max_queue_delay_us!r}")
        if self.model_control_mode not in ("poll", "explicit", "none"):
            raise ValueError(
                f"model_control_mode must be 'poll', 'explicit' or 'none', got {self.model_control_mode!r}"
            )

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def fields():
    """(name, default, type, help) of every setting, for the command line."""
    defaults = ServerSettings()
    return [
        (field.name, getattr(defaults, field.name), field.type, field.metadata["help"])
        for field in dataclasses.fields(ServerSettings)
    ]
