"""Access control as tenants meet it: tokens from a file, scopes and models per tenant, quotas, the Host
allow-list and TLS."""

import hashlib
import json
import re
import threading
import time

import pytest

pytest.importorskip("uvicorn", reason="serving needs the serve extra: starlette, uvicorn")
from tests.serve.conftest import infer_json  # noqa: E402
from tinygrad_maas.serve.auth import AccessControl, HostAllowList, read_token_file  # noqa: E402

TEAM, OPS, SLOW = "team-token-0123456789", "ops-token-0123456789ab", "slow-token-0123456789"


@pytest.fixture
def tokens_file(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text(
        json.dumps(
            {
                "tenants": {
                    "team": {"token": TEAM, "models": ["tin*"], "scopes": ["infer", "metadata"]},
                    "ops": {"token_sha256": hashlib.sha256(OPS.encode()).hexdigest(), "scopes": ["admin", "metadata"]},
                    "slow": {"token": SLOW, "rate_per_second": 2, "burst": 2, "max_in_flight": 1},
                }
            }
        )
    )
    return path


@pytest.fixture
def tenants_server(repository_root, tokens_file, start_server):
    return start_server(repository_root, access=AccessControl.from_file(tokens_file))


def test_401_names_the_scheme_and_any_case_of_bearer_works(tenants_server):
    status, headers, body = tenants_server.request("GET", "/v2/models/tiny")
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    status, headers, _ = tenants_server.request("GET", "/v2/models/tiny", headers={"Authorization": "Bearer wrong"})
    assert status == 401 and 'error="invalid_token"' in headers["www-authenticate"]
    for scheme in ("Bearer", "bearer", "BEARER"):
        assert (
            tenants_server.request("GET", "/v2/models/tiny", headers={"Authorization": f"{scheme}  {TEAM}"})[0] == 200
        )


def test_scopes_and_models_per_tenant_are_403_when_missing(tenants_server):
    assert tenants_server.request("POST", "/v2/models/tiny/infer", infer_json(), token=TEAM)[0] == 200
    status, _, body = tenants_server.request("POST", "/v2/models/tiny/infer", infer_json(), token=OPS)
    assert status == 403 and "lacks the 'infer' scope" in json.loads(body)["error"]
    status, _, body = tenants_server.request("POST", "/v2/repository/index", b"{}", token=TEAM)
    assert status == 403 and "lacks the 'admin' scope" in json.loads(body)["error"]
    assert tenants_server.request("POST", "/v2/repository/index", b"{}", token=OPS)[0] == 200
    assert tenants_server.request("GET", "/metrics", token=OPS)[0] == 200
    assert tenants_server.request("GET", "/metrics", token=TEAM)[0] == 403


def test_a_tenant_sees_and_uses_only_its_models(tmp_path, tokens_file, start_server):
    from tests.serve.conftest import write_model

    root = tmp_path / "repo"
    write_model(root, "tiny", 1, 1.0)
    write_model(root, "secret", 1, 1.0)
    server = start_server(root, access=AccessControl.from_file(tokens_file))
    assert json.loads(server.request("GET", "/v1/models", token=TEAM)[2]) == {"models": ["tiny"]}
    status, _, body = server.request("POST", "/v2/models/secret/infer", infer_json(), token=TEAM)
    assert status == 403 and "may not use model 'secret'" in json.loads(body)["error"]
    assert server.request("POST", "/v1/models/secret:predict", {"instances": [[[1, 2], [3, 4]]]}, token=TEAM)[0] == 403


def test_health_the_page_and_the_api_description_need_no_token(tenants_server):
    for path in ("/v2/health/live", "/v2/health/ready", "/", "/openapi.json"):
        assert tenants_server.request("GET", path)[0] == 200, path


def test_a_tenant_over_its_rate_gets_429_with_retry_after_and_others_are_not_slowed(tenants_server):
    answers = [tenants_server.request("GET", "/v2/models/tiny", token=SLOW) for _ in range(4)]
    assert [status for status, _, _ in answers[:2]] == [200, 200]
    status, headers, body = answers[3]
    assert status == 429 and int(headers["retry-after"]) >= 1 and "over its rate" in json.loads(body)["error"]
    assert all(tenants_server.request("GET", "/v2/models/tiny", token=TEAM)[0] == 200 for _ in range(10))


def test_a_tenant_over_its_requests_in_flight_gets_429(tenants_server, monkeypatch):
    model = tenants_server.repository.resolve("tiny").model
    predict = model.predict
    monkeypatch.setattr(model, "predict", lambda arrays: (time.sleep(0.5), predict(arrays))[1])
    answers = []
    first = threading.Thread(
        target=lambda: answers.append(tenants_server.request("POST", "/v2/models/tiny/infer", infer_json(), token=SLOW))
    )
    first.start()
    time.sleep(0.2)
    status, _, body = tenants_server.request("POST", "/v2/models/tiny/infer", infer_json(), token=SLOW)
    first.join()
    assert status == 429 and "requests in flight" in json.loads(body)["error"]
    assert answers[0][0] == 200


def test_the_host_allow_list_stops_dns_rebinding_but_not_health_checks(repository_root, start_server):
    server = start_server(repository_root, hosts=HostAllowList.default_for("127.0.0.1"))
    assert server.request("GET", "/v2/models/tiny")[0] == 200  # Host: 127.0.0.1:port
    assert server.request("GET", "/v2/models/tiny", headers={"Host": "localhost:8000"})[0] == 200
    status, _, body = server.request("GET", "/v2/models/tiny", headers={"Host": "evil.example:8000"})
    assert status == 400 and "'evil.example:8000' is not served here" in json.loads(body)["error"]
    assert server.request("GET", "/v2/health/ready", headers={"Host": "10.0.0.7:8000"})[0] == 200


def test_tokens_files_are_checked_field_by_field(tmp_path):
    cases = [
        ({"tenants": {"a": {"token": "short"}}}, "at least 16 characters"),
        ({"tenants": {"a": {"token": TEAM, "scopes": ["root"]}}}, "unknown scope(s) ['root']"),
        ({"tenants": {"a": {"token": TEAM, "rate": 5}}}, "unknown field(s) ['rate']"),
        ({"tenants": {"a": {"token": TEAM}, "b": {"token": TEAM}}}, "share a token"),
        ({"tenants": {"a": {"token_sha256": "xyz"}}}, "64 lowercase hex digits"),
        ({"tenants": {"a": {"token": TEAM, "max_in_flight": 0}}}, "max_in_flight must be a positive integer"),
        ({"users": []}, 'expected {"tenants"'),
    ]
    for document, message in cases:
        path = tmp_path / "tokens.json"
        path.write_text(json.dumps(document))
        with pytest.raises(ValueError, match=re.escape(message)):
            AccessControl.from_file(path)


def test_a_token_file_keeps_the_token_off_the_command_line(tmp_path):
    path = tmp_path / "token"
    path.write_text(TEAM + "\n")
    assert read_token_file(path) == TEAM
    path.write_text("abc\n")
    with pytest.raises(ValueError, match="at least 16 characters"):
        read_token_file(path)


def test_serving_over_tls_with_the_servers_own_certificate(repository_root, tmp_path):
    trustme = pytest.importorskip("trustme", reason="the TLS test makes its certificate with trustme (dev extra)")
    import ssl
    import urllib.error
    import urllib.request

    from tests.serve.conftest import Server
    from tinygrad_maas.serve.app import create_app
    from tinygrad_maas.serve.repository import ModelRepository

    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    certificate.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    repository = ModelRepository(str(repository_root), log=lambda line: None)
    repository.refresh()
    server = Server(
        create_app(repository), ssl_certfile=str(tmp_path / "server.pem"), ssl_keyfile=str(tmp_path / "server.pem")
    )
    try:
        context = ssl.create_default_context()
        authority.configure_trust(context)
        with urllib.request.urlopen(f"https://127.0.0.1:{server.port}/v2/health/live", context=context) as reply:
            assert reply.status == 200
        with pytest.raises(urllib.error.URLError):  # a client that does not trust the certificate refuses it
            urllib.request.urlopen(f"https://127.0.0.1:{server.port}/v2/health/live", timeout=10)
    finally:
        server.stop()
