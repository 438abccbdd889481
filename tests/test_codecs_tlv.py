"""TLV against byte-exact payloads from the LwM2M TS and public test suites (Leshan, Wakaama, Anjay)."""

from __future__ import annotations

import pytest

from rig.lwm2m.codecs import CodecError, decode, encode
from rig.lwm2m.codecs.tlv import TlvEntry, TlvKind, build_tlv, parse_tlv, value_from_tlv
from rig.lwm2m.resource_types import ResourceDef, ResourceRegistry, ResourceType

T = ResourceType

# OMA-TS-LightweightM2M 7.4.3.2 "Single Object Instance Request Example", Read /3/0 answered as resource TLVs.
# Copied from Leshan leshan-core/src/test/java/org/eclipse/leshan/core/node/codec/LwM2mNodeDecoderTest.java
# (ENCODED_DEVICE_WITHOUT_INSTANCE, "Example from LWM2M spec") and identical to lwm2m-node-lib's
# test/unit/tlv (“Copied verbatim from the spec”).
SPEC_DEVICE_TLV = bytes.fromhex(
    "C800144F70656E204D6F62696C6520416C6C69616E6365C801164c69676874776569676874204d324d20436c69656e74"
    "C80209333435303030313233C303312E30860641000141010588070842000ED842011388870841007D42010384C10964"
    "C10A0F830B410000C40D5182428FC60E2B30323A3030C11055"
)
# Same content wrapped in one Object Instance TLV (spec example, Leshan ENCODED_DEVICE_WITH_INSTANCE).
SPEC_DEVICE_TLV_WITH_INSTANCE = bytes.fromhex("080079") + SPEC_DEVICE_TLV

SPEC_DEVICE_VALUES = {
    (3, 0, 0): "Open Mobile Alliance",
    (3, 0, 1): "Lightweight M2M Client",
    (3, 0, 2): "345000123",
    (3, 0, 3): "1.0",
    (3, 0, 6, 0): 1,
    (3, 0, 6, 1): 5,
    (3, 0, 7, 0): 3800,
    (3, 0, 7, 1): 5000,
    (3, 0, 8, 0): 125,
    (3, 0, 8, 1): 900,
    (3, 0, 9): 100,
    (3, 0, 10): 15,
    (3, 0, 11, 0): 0,
    (3, 0, 13): 1367491215,
    (3, 0, 14): "+02:00",
    (3, 0, 16): "U",
}

# Spec multiple-instance examples via Leshan LwM2mNodeDecoderTest: ACL (object 2), Server (object 1),
# and the object-link examples (objects 65 and 66, figure 28 of LwM2M 1.0.1).
LESHAN_ACL = bytes.fromhex("08000EC10001C101008302417F07C1037F080212C10003C101008702417F0761013601C1037F")
LESHAN_SERVER = bytes.fromhex("08000FC10001C40100015180C10601C10755")
LESHAN_OBJ65 = bytes.fromhex("88000C440000420000440100420001C8010D38363133383030373535353030C40212345678")
LESHAN_OBJ66 = bytes.fromhex(
    "080026C8000B6D79536572766963652031C8010F496E7465726E65742E31352E323334C40200430000"
    "080126C8000B6D79536572766963652032C8010F496E7465726E65742E31352E323335C402FFFFFFFF"
)
# Wakaama tests/tlvtests.c test_1 and test_2 (the latter is the device example with resource 15 'U').
WAKAAMA_TEST_1 = bytes([0x03, 0x0A, 0xC1, 0x01, 0x14, 0x03, 0x0B, 0xC1, 0x01, 0x15, 0x03, 0x0C, 0xC1, 0x01, 0x16])
WAKAAMA_TEST_2 = SPEC_DEVICE_TLV[:-3] + bytes([0xC1, 0x0F, 0x55])

REGISTRY = (
    ResourceRegistry()
    .with_object(2, {0: ResourceDef("Object ID", T.INTEGER), 1: ResourceDef("Instance ID", T.INTEGER),
                     2: ResourceDef("ACL", T.INTEGER, multiple=True), 3: ResourceDef("Owner", T.INTEGER)})
    .with_object(65, {0: ResourceDef("res0", T.OBJLNK, multiple=True), 1: ResourceDef("res1", T.STRING),
                      2: ResourceDef("res2", T.INTEGER)})
    .with_object(66, {0: ResourceDef("res0", T.STRING), 1: ResourceDef("res1", T.STRING),
                      2: ResourceDef("res2", T.OBJLNK)})
)


def test_spec_device_instance_decodes_to_the_spec_values():
    assert decode(11542, SPEC_DEVICE_TLV, (3, 0)) == SPEC_DEVICE_VALUES


def test_spec_device_instance_wrapped_in_instance_tlv_decodes_at_instance_and_object():
    assert decode(11542, SPEC_DEVICE_TLV_WITH_INSTANCE, (3, 0)) == SPEC_DEVICE_VALUES
    assert decode(11542, SPEC_DEVICE_TLV_WITH_INSTANCE, (3,)) == SPEC_DEVICE_VALUES


def test_encoder_reproduces_the_spec_bytes_exactly():
    assert encode(11542, SPEC_DEVICE_VALUES, (3, 0)) == SPEC_DEVICE_TLV
    assert encode(11542, SPEC_DEVICE_VALUES, (3,)) == SPEC_DEVICE_TLV_WITH_INSTANCE


@pytest.mark.parametrize("payload", [SPEC_DEVICE_TLV, WAKAAMA_TEST_1, WAKAAMA_TEST_2, LESHAN_ACL, LESHAN_OBJ66])
def test_byte_layer_round_trips_public_payloads(payload):
    assert build_tlv(parse_tlv(payload)) == payload


def test_wakaama_device_variant_reads_resource_15():
    assert decode(11542, WAKAAMA_TEST_2, (3, 0))[(3, 0, 15)] == "U"


def test_wakaama_three_instances_of_an_unknown_object_stay_bytes():
    assert decode(11542, WAKAAMA_TEST_1, (1024,)) == {
        (1024, 10, 1): b"\x14", (1024, 11, 1): b"\x15", (1024, 12, 1): b"\x16"}


def test_leshan_acl_multiple_instances():
    values = decode(11542, LESHAN_ACL, (2,), REGISTRY)
    assert values == {
        (2, 0, 0): 1, (2, 0, 1): 0, (2, 0, 2, 127): 7, (2, 0, 3): 127,
        (2, 2, 0): 3, (2, 2, 1): 0, (2, 2, 2, 127): 7, (2, 2, 2, 310): 1, (2, 2, 3): 127,
    }


def test_leshan_server_object_types_from_registry():
    assert decode(11542, LESHAN_SERVER, (1,)) == {(1, 0, 0): 1, (1, 0, 1): 86400, (1, 0, 6): True, (1, 0, 7): "U"}


def test_leshan_object_links():
    assert decode(11542, LESHAN_OBJ65, (65, 0), REGISTRY) == {
        (65, 0, 0, 0): (66, 0), (65, 0, 0, 1): (66, 1), (65, 0, 1): "8613800755500", (65, 0, 2): 0x12345678}
    obj66 = decode(11542, LESHAN_OBJ66, (66,), REGISTRY)
    assert obj66[(66, 0, 0)] == "myService 1"
    assert obj66[(66, 0, 2)] == (67, 0)
    assert obj66[(66, 1, 2)] == (0xFFFF, 0xFFFF)


def test_multiple_resource_read_as_bare_instances_or_wrapped():
    # Leshan tlv_power_source__array_values and tlv_power_source__multiple_resource
    expected = {(3, 0, 6, 0): 1, (3, 0, 6, 1): 5}
    assert decode(11542, bytes([65, 0, 1, 65, 1, 5]), (3, 0, 6)) == expected
    assert decode(11542, bytes([0x86, 6, 65, 0, 1, 65, 1, 5]), (3, 0, 6)) == expected
    assert encode(11542, expected, (3, 0, 6)) == bytes([0x86, 6, 65, 0, 1, 65, 1, 5])


def test_resource_wrapped_in_matching_instance_is_accepted_and_mismatch_refused():
    inner = build_tlv([TlvEntry(TlvKind.RESOURCE_VALUE, 1, b"client")])
    ok = build_tlv([TlvEntry(TlvKind.OBJECT_INSTANCE, 0, children=tuple(parse_tlv(inner)))])
    bad = build_tlv([TlvEntry(TlvKind.OBJECT_INSTANCE, 1, children=tuple(parse_tlv(inner)))])
    assert decode(11542, ok, (3, 0, 1)) == {(3, 0, 1): "client"}
    with pytest.raises(CodecError, match="outside the requested /3/0/1"):
        decode(11542, bad, (3, 0, 1))


@pytest.mark.parametrize(
    "payload, base, message",
    [
        (bytes.fromhex("0011223344556677889900"), (3,), "not allowed"),  # Leshan decode_broken_tlv
        (b"\xE7", (3, 0), "header truncated"),  # Anjay id_too_short
        (b"\xF8\x01\x02\x01\x86", (3, 0), "header truncated"),  # Anjay length_too_short
        (b"\xC7\x2A012", (3, 0), "overruns"),  # Anjay premature_end
        (bytes.fromhex("0000") * 2, (2,), "repeats /2/0"),  # Leshan: two instances with the same id
        (bytes.fromhex("C101"), (3, 0), "overruns"),
        (bytes.fromhex("C10100C10100"), (3, 0), "repeats /3/0/1"),  # two resources with the same id
        (bytes.fromhex("8606410000410001"), (3, 0, 6), "repeats /3/0/6/0"),
        (bytes.fromhex("C10100"), (3,), "instance id is unknown"),
        (bytes.fromhex("030AC10114"), (), "object id is unknown"),
        (bytes.fromhex("02000005"), (3,), "object instance not allowed in object instance"),
        (bytes.fromhex("C309010203"), (3, 0), "integer TLV value has 3 bytes"),
        (bytes.fromhex("C10302"), (5, 0, 5), "outside the requested /5/0/5"),
    ],
)
def test_malformed_tlv_raises_codec_error(payload, base, message):
    with pytest.raises(CodecError, match=message):
        decode(11542, payload, base)


def test_ids_and_lengths_of_every_width():
    # Anjay tests/core/io/tlv_in.c headers: 16-bit ids, 8/16/24-bit lengths.
    cases = [
        (b"\xC7\x00", 0, 7), (b"\xE7\xA4\x10", 42000, 7), (b"\xC8\xFF\x08", 255, 8),
        (b"\xE8\xFF\xFE\x08", 65534, 8), (b"\xD0\x2A\x03\xE8", 42, 1000), (b"\xF0\xA5\xB4\x03\xE8", 42420, 1000),
        (b"\xD8\x45\x01\x86\xA0", 69, 100000), (b"\xF8\x01\x02\x01\x86\xA0", 258, 100000),
    ]
    for header, rid, length in cases:
        payload = header + b"x" * length
        [entry] = parse_tlv(payload)
        assert (entry.kind, entry.id, len(entry.value)) == (TlvKind.RESOURCE_VALUE, rid, length)
        assert build_tlv([entry]) == payload
        assert decode(11542, payload, (1024, 4)) == {(1024, 4, rid): b"x" * length}


@pytest.mark.parametrize(
    "raw, rtype, expected",
    [
        # Anjay tests/core/io/tlv_in.c integer, double and boolean vectors
        (b"\x2A", T.INTEGER, 42),
        (b"\x10\x92", T.INTEGER, 4242),
        (b"\x00\x06\x79\x32", T.INTEGER, 424242),
        (b"\xFC\xDE\x41\xB2", T.INTEGER, 4242424242 - 2**32),
        (b"\x00\x00\x00\x00\xFC\xDE\x41\xB2", T.INTEGER, 4242424242),
        (b"\x05\xE3\x36\x3C\xB3\x9E\xC9\xB2", T.INTEGER, 424242424242424242),
        (b"\xFC\xDE\x41\xB2", T.UNSIGNED, 4242424242),
        (b"\x3F\x80\x00\x00", T.FLOAT, 1.0),
        (b"\xC7\x24\x10\x00", T.FLOAT, -42.0e3),
        (b"\x3F\xF1\x99\x99\x99\x99\x99\x9A", T.FLOAT, 1.1),
        (b"\0", T.BOOLEAN, False),
        (b"\1", T.BOOLEAN, True),
        (bytes.fromhex("12345678"), T.OBJLNK, (0x1234, 0x5678)),  # Leshan decode_object_link
        (bytes.fromhex("ffffffff"), T.OBJLNK, (0xFFFF, 0xFFFF)),
        (bytes.fromhex("5182428F"), T.TIME, 1367491215),
        (b"\xff\x00", None, b"\xff\x00"),
    ],
)
def test_typed_values(raw, rtype, expected):
    assert value_from_tlv(raw, rtype, (9, 0, 0)) == expected


@pytest.mark.parametrize(
    "raw, rtype",
    [
        (b"", T.INTEGER), (b"\x06\x79\x32", T.INTEGER), (b"\x62\xC6\xD1\xA9\xB2", T.INTEGER),
        (b"\x00\x05\xE3\x36\x3C\xB3\x9E\xC9\xB2", T.INTEGER), (b"", T.FLOAT), (b"\x3F\xF0\x00\x00\x00", T.FLOAT),
        (b"", T.BOOLEAN), (b"\2", T.BOOLEAN), (b"\0\0", T.BOOLEAN), (b"\x01\x02\x03", T.OBJLNK),
        (b"\xff\xfe", T.STRING),
    ],
)
def test_bad_typed_values(raw, rtype):
    with pytest.raises(CodecError):
        value_from_tlv(raw, rtype, (9, 0, 0))


def test_encoder_widths_and_type_checks():
    assert encode(11542, {(5, 0, 3): 2}, (5, 0, 3)) == b"\xC1\x03\x02"
    assert encode(11542, {(5, 0, 13): 40000}, (5, 0, 13)) == b"\xC2\x0D\x9C\x40"  # unsigned: 2 bytes
    assert encode(11542, {(5, 0, 5): 40000}, (5, 0, 5)) == b"\xC4\x05\x00\x00\x9C\x40"  # signed: 4 bytes
    assert encode(11542, {(5, 0, 8, 0): 0, (5, 0, 8, 1): 1}, (5, 0, 8)) == bytes.fromhex("8608410000410101")
    assert encode(11542, {(1024, 0, 300): b"ab"}, (1024, 0)) == b"\xE2\x01\x2Cab"
    with pytest.raises(CodecError, match="expected a number, got str"):
        encode(11542, {(5, 0, 3): "two"}, (5, 0))
    with pytest.raises(CodecError, match="multiple-instance resource needs resource-instance paths"):
        encode(11542, {(5, 0, 8): 1}, (5, 0))
    with pytest.raises(CodecError, match="no field for the object id"):
        encode(11542, {(5, 0, 3): 1}, ())
