"""`rig serve --psk dev1:id1:K1 --psk dev2:id2:K2` against libcoap's own clients (issue 17, Must show):
NoSec Register / Update / De-register of a keyed endpoint and another endpoint's session are refused, the
endpoint itself registers, updates and de-registers over coaps; a wrong key hears why at once and the
failure is printed; --allow-nosec lets a bench have both."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from peers import need

from cmd_helpers import one_line_error, rig, rig_background
from rig.netutil import free_udp_pair

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset



@pytest.fixture(autouse=True)
def _libcoap_clients():
    need("coap-client-notls", "coap-client-openssl")

K1, K2 = b"secret-one", b"secret-two"  # test keys, ASCII so libcoap's -k takes them as they are


def coap_client(binary: str, method: str, uri: str, *args: str, timeout: float = 20.0) -> str:
    """One libcoap request; its output (the response code of an error is printed with the diagnostic payload)."""
    proc = subprocess.run([binary, "-m", method, "-B", str(int(timeout) - 2), *args, uri], capture_output=True,
                          text=True, timeout=timeout)
    return proc.stdout + proc.stderr


def coaps(identity: str, key: bytes) -> tuple[str, ...]:
    return ("-u", identity, "-k", key.decode())


def test_a_keyed_endpoint_is_bound_to_its_key_against_libcoap_peers(tmp_path) -> None:
    port = free_udp_pair()
    plain, secure = f"coap://127.0.0.1:{port}", f"coaps://127.0.0.1:{port + 1}"
    serve = rig_background("serve", "--firmware", str(tmp_path), "--port", str(port), "--timeline", str(tmp_path / "t.jsonl"),
                           "--psk", f"dev1:id1:{K1.hex()}", "--psk", f"dev2:id2:{K2.hex()}", cwd=tmp_path)
    try:
        serve.wait_line("serving LwM2M")
        out = coap_client("coap-client-notls", "post", f"{plain}/rd?ep=dev1&lt=60", "-e", "</5>")
        assert "4.03" in out, out
        assert "has a PSK" in serve.wait_line("register-refused dev1")

        coap_client("coap-client-openssl", "post", f"{secure}/rd?ep=dev1&lt=60", "-e", "</3/0>,</5>", *coaps("id1", K1))
        location = re.search(r"at (/rd/[0-9a-f]{16})", serve.wait_line("register dev1")).group(1)

        for binary, method, creds, needle in (
            ("coap-client-notls", "post", (), "update-refused dev1"),  # NoSec Update
            ("coap-client-notls", "delete", (), "deregister-refused dev1"),  # NoSec De-register
            ("coap-client-openssl", "delete", coaps("id2", K2), "deregister-refused dev1"),  # dev2's session
        ):
            base = secure if creds else plain
            out = coap_client(binary, method, f"{base}{location}", *creds)
            assert "4.03" in out, (binary, method, out)
            serve.wait_line(needle)
        assert "b'id2' may not act for endpoint 'dev1'" in serve.seen[-1]

        out = coap_client("coap-client-openssl", "post", f"{secure}{location}?lt=120", *coaps("id1", K1))
        assert "4." not in out, out
        serve.wait_line("update dev1")
        out = coap_client("coap-client-openssl", "delete", f"{secure}{location}", *coaps("id1", K1))
        assert "4." not in out, out
        serve.wait_line("deregister dev1")

        started = time.monotonic()  # a wrong key: the client is told (a fatal alert it does not drop) within seconds
        out = coap_client("coap-client-openssl", "get", f"{secure}/fw/none", *coaps("id1", b"not-the-key"), timeout=30)
        assert time.monotonic() - started < 10 and "bad record mac" in out.lower(), out
        line = serve.wait_line("DTLS handshake from")
        assert "wrong key" in line and "identity id1" in line
    finally:
        serve.proc.send_signal(2)
        code, err = serve.finish()
    assert code == 0, err
    kinds = [line for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert sum('"kind": "register"' in k for k in kinds) == 1 and sum('"kind": "deregister"' in k for k in kinds) == 1


def test_allow_nosec_lets_a_bench_register_a_keyed_endpoint_over_plain_coap(tmp_path) -> None:
    port = free_udp_pair()
    serve = rig_background("serve", "--firmware", str(tmp_path), "--port", str(port), "--psk", f"dev1:id1:{K1.hex()}",
                           "--allow-nosec", "dev1", cwd=tmp_path)
    try:
        serve.wait_line("serving LwM2M")
        out = coap_client("coap-client-notls", "post", f"coap://127.0.0.1:{port}/rd?ep=dev1&lt=60", "-e", "</5>")
        assert "4." not in out, out
        serve.wait_line("register dev1")
    finally:
        serve.stop()
    one_line_error(rig("serve", "--firmware", str(tmp_path), "--port", str(free_udp_pair()), "--allow-nosec", "dev9",
                       cwd=tmp_path), "--allow-nosec dev9", "no PSK")


def test_serve_lines_name_dtls_failures_and_refusals_escaped_and_bounded() -> None:
    from rig.event_lines import describe
    from rig.lwm2m.limits import MAX_LOG_LINE
    from rig.timeline import Event

    failed = describe(Event(0.0, "dtls", {"event": "handshake-failed", "peer": "127.0.0.1:4000", "identity": "id1",
                                          "reason": "wrong key: ...", "suppressed": 12}))
    assert failed == "DTLS handshake from 127.0.0.1:4000 failed: wrong key: ... (identity id1) (12 more like it not shown)"
    flood = describe(Event(0.0, "dtls", {"event": "handshake-flood", "peer": "p", "identity": None, "reason": "236 pushed out"}))
    assert flood == "DTLS flood: 236 pushed out"
    nasty = describe(Event(0.0, "deregister-refused", {"endpoint": "\x1b[2J" + "e" * 1000, "peer": "p", "reason": "r"}))
    assert "\x1b" not in nasty and len(nasty) <= MAX_LOG_LINE
    assert describe(Event(0.0, "send-refused", {"peer": "p", "reason": "not registered"})) == "send-refused from p: not registered"
