"""Model as a service: a model repository served over HTTP with the Open Inference Protocol (KServe v2),
TF-Serving REST and KServe v1 explanations. Needs the `serve` extra (starlette, uvicorn, httptools),
imported only here. docs/serving.md tells how to run it and what each limit protects against.

    app.py           the app: one guard (hosts, tokens, scopes, quotas, timeout) in front of every route
    routes_v2.py     Open Inference Protocol        routes_v1.py     TF-Serving / KServe v1, explanations
    routes_admin.py  repository index, model control, metrics, the page, the OpenAPI document
    repository.py    versions on disk and their states, memory budget    config.py   per-model config.json
    batching.py      the per-version queue: priorities, timeouts, batches    model.py   a loaded version
    protocol.py      decoding and encoding tensors, every field checked      explain.py  attributions
    http.py          the connection layer's limits      body.py   body size and time    auth.py, quotas.py
"""


def serve(
    model_repository,
    host="127.0.0.1",
    port=8000,
    settings=None,
    token=None,
    tokens_file=None,
    allowed_hosts=None,
    log_level="info",
    ssl_certfile=None,
    ssl_keyfile=None,
    load_models=None,
):
    """Load and warm up the repository's models, then serve until interrupted (Ctrl-C, SIGTERM)."""
    try:
        import httptools  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ImportError('serving needs the serve extra: pip install "tinygrad_maas[serve]"') from None
    from .app import create_app
    from .auth import AccessControl, HostAllowList
    from .http import make_server
    from .repository import ModelRepository
    from .settings import ServerSettings

    settings = settings or ServerSettings()
    if token and tokens_file:
        raise ValueError("give a single token or a tokens file, not both")
    access = AccessControl.from_file(tokens_file) if tokens_file else AccessControl.from_token(token)
    if host not in HostAllowList.LOOPBACK and not access.enabled:
        raise ValueError(
            f"refusing to listen on {host} without access control: give --token-file, --tokens-file "
            "or TINYGRAD_MAAS_TOKEN when binding a non-loopback address"
        )
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise ValueError("TLS needs both --ssl-certfile and --ssl-keyfile")
    hosts = HostAllowList(allowed_hosts) if allowed_hosts else HostAllowList.default_for(host)
    repository = ModelRepository(model_repository, settings, log=lambda line: print(line, flush=True))
    names = None if not load_models or "*" in load_models else set(load_models)
    repository.refresh(names)
    ready = [f"{e['name']}/{e['version']}" for e in repository.index(ready_only=True)]
    print(f"{len(ready)} model version(s) ready: {', '.join(ready) or 'none'}", flush=True)
    app = create_app(repository, settings, access, hosts)
    make_server(app, settings, host, port, log_level, ssl_certfile, ssl_keyfile).run()
    _exit_despite_hung_models(settings.shutdown_timeout)


def _exit_despite_hung_models(timeout):
    """Python waits at exit for every worker thread; a model whose forward pass hangs would hold the process
    forever. Give the threads the shutdown timeout, then leave without them (the server writes no files)."""
    import os
    import threading
    import time

    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                print(
                    f"a model is still running after the shutdown timeout ({thread.name}); exiting anyway", flush=True
                )
                os._exit(1)
