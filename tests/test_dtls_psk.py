"""PSK specs as the CLI and place files give them, and the lookups the server needs."""

from __future__ import annotations

import pytest

from rig.errors import RigError
from rig.lwm2m.dtls.psk import PskEntry, PskStore, parse_psk_spec


def test_dtls_psk_parse_simple_and_colon_endpoints() -> None:
    assert parse_psk_spec("dev1:id1:00ff") == PskEntry("dev1", b"id1", b"\x00\xff")
    assert parse_psk_spec("urn:imei:123:urn:imei:123:0xABCD") == PskEntry("urn:imei:123", b"urn:imei:123", b"\xab\xcd")
    assert parse_psk_spec("urn:dev:os:77:board-7:0102") == PskEntry("urn:dev:os:77", b"board-7", b"\x01\x02")


@pytest.mark.parametrize(
    "spec,part",
    [
        ("dev1-00ff", "ENDPOINT:IDENTITY:HEXKEY"),
        ("dev1:00ff", "ENDPOINT:IDENTITY:HEXKEY"),
        (":id:00ff", "ENDPOINT part is empty"),
        ("dev1::00ff", "IDENTITY part is empty"),
        ("dev1:id:", "HEXKEY part is empty"),
        ("dev1:id:xyz1", "HEXKEY part 'xyz1' is not hexadecimal"),
        ("dev1:id:" + "00" * 65, "at most 64"),
        ("dev1:" + "i" * 129 + ":00", "IDENTITY part is 129 bytes"),
    ],
)
def test_dtls_psk_bad_specs_name_the_bad_part(spec: str, part: str) -> None:
    with pytest.raises(RigError, match="PSK spec") as info:
        parse_psk_spec(spec)
    assert part in str(info.value)


def test_dtls_psk_store_lookups_and_conflicts() -> None:
    store = PskStore.parse(["dev1:id1:01", "dev2:id2:02"])
    assert store.key_for_identity(b"id2") == b"\x02"
    assert store.endpoint_for_identity(b"id1") == "dev1"
    assert store.endpoint_for_identity(b"nobody") is None and store.key_for_identity(b"nobody") is None
    assert store.entry_for_endpoint("dev2") == PskEntry("dev2", b"id2", b"\x02")
    assert len(store) == 2
    store.add(PskEntry("dev1", b"id1", b"\x01"))  # the same entry twice is harmless
    with pytest.raises(RigError, match="identity 'id1' is given twice"):
        store.add(PskEntry("dev3", b"id1", b"\x03"))
    with pytest.raises(RigError, match="endpoint 'dev2' has two PSK entries"):
        store.add(PskEntry("dev2", b"other", b"\x03"))
