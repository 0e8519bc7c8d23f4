"""Model as a service: a model repository served over HTTP with the Open Inference Protocol (KServe v2)
and TensorFlow-Serving-style REST. Needs the `serve` extra (starlette, uvicorn), imported only here."""


def serve(model_repository, host="127.0.0.1", port=8000, token=None, max_body_bytes=16 * 1024 * 1024,
          max_batch_size=32, max_queue_delay_us=0, poll_seconds=5.0, log_level="info"):
    """Load and warm up every model in the repository, then serve until interrupted."""
    try:
        import uvicorn
    except ImportError:
        raise ImportError('serving needs the serve extra: pip install "tinygrad_maas[serve]"') from None
    from .app import create_app
    from .repository import ModelRepository

    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        raise ValueError(f"refusing to listen on {host} without a token: give --token (or TINYGRAD_MAAS_TOKEN) "
                         "when binding a non-loopback address")
    repository = ModelRepository(model_repository)
    loaded = repository.load_all()
    print(f"loaded {len(loaded)} model version(s): " + ", ".join(f"{n}/{v}" for n, v in loaded))
    app = create_app(repository, token, max_body_bytes, max_batch_size, max_queue_delay_us, poll_seconds or None)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
