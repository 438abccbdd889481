"""SenML JSON (110) and CBOR (112) against public payloads (Leshan, Anjay) and RFC 8428 rules."""

from __future__ import annotations

import json

import pytest

from rig.lwm2m.codecs import CodecError, decode, decode_senml_json_records, encode
from rig.lwm2m.resource_types import ResourceRegistry

from test_codecs_tlv import SPEC_DEVICE_VALUES

# Leshan leshan-core/src/test/java/org/eclipse/leshan/core/senml/cbor/AbstractSenMLTest.java:
# Read /3/0 of the LwM2M example client, SenML JSON and SenML CBOR.
LESHAN_DEVICE_JSON = (
    '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M Client"},'
    '{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},'
    '{"n":"7/0","v":3800},{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},'
    '{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},{"n":"13","v":1367491215},'
    '{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]'
).encode()
LESHAN_DEVICE_CBOR = bytes.fromhex(
    "90a321652f332f302f00613003744f70656e204d6f62696c6520416c6c69616e6365a200613103764c696768747765696768"
    "74204d324d20436c69656e74a20061320369333435303030313233a20061330363312e30a20063362f300201a20063362f310205a20063372f"
    "3002190ed8a20063372f3102191388a20063382f3002187da20063382f3102190384a2006139021864a200623130020fa2006431312f300200"
    "a200623133021a5182428fa20062313403662b30323a3030a200623136036155"
)
# Leshan SenMLCborSerializerTest: [{-2: "/0/0/3", 8: h'ABCDEF'}] and [{2: 300.0 (half float), -2: "/3442/0/130"}]
LESHAN_OPAQUE_CBOR = bytes.fromhex("81a221662f302f302f330843abcdef")
LESHAN_HALF_FLOAT_CBOR = bytes.fromhex("81a202f95cb0216b2f333434322f302f313330")
# Anjay tests/core/io/senml_cbor_out.c: single_resource, two_resources, resource_instances_nested_maps
ANJAY_SINGLE = bytes.fromhex("81a221682f31332f32362f3102182a")
ANJAY_TWO = bytes.fromhex("82a321662f31332f323600622f3102182aa200622f320215")
ANJAY_NESTED = bytes.fromhex(
    "83a321662f31332f323600622f3102182aa200652f332f323102fb40516b851eb851eca200652f332f333704f4")


def test_leshan_device_read_json_and_cbor_match_the_spec_values():
    assert decode(110, LESHAN_DEVICE_JSON, (3, 0)) == SPEC_DEVICE_VALUES
    assert decode(112, LESHAN_DEVICE_CBOR, (3, 0)) == SPEC_DEVICE_VALUES
    assert decode(112, LESHAN_DEVICE_CBOR, (3,)) == SPEC_DEVICE_VALUES


def test_leshan_opaque_and_half_float():
    assert decode(112, LESHAN_OPAQUE_CBOR, (0, 0, 3)) == {(0, 0, 3): bytes.fromhex("abcdef")}
    assert decode(112, LESHAN_HALF_FLOAT_CBOR, (3442, 0, 130)) == {(3442, 0, 130): 300.0}


def test_anjay_payloads_decode_and_the_encoder_reproduces_them_byte_for_byte():
    cases = [
        (ANJAY_SINGLE, (13, 26, 1), {(13, 26, 1): 42}),
        (ANJAY_TWO, (13, 26), {(13, 26, 1): 42, (13, 26, 2): 21}),
        (ANJAY_NESTED, (13, 26), {(13, 26, 1): 42, (13, 26, 3, 21): 69.68, (13, 26, 3, 37): False}),
    ]
    for payload, base, values in cases:
        assert decode(112, payload, base) == values
        assert encode(112, values, base) == payload


def test_object5_round_trip_in_both_formats():
    values = {(5, 0, 1): "coap://127.0.0.1:5683/fw/a.bin", (5, 0, 3): 1, (5, 0, 5): 0, (5, 0, 8, 0): 0,
              (5, 0, 8, 1): 1, (5, 0, 9): 2, (5, 0, 12): 1700000000, (5, 0, 0): b"\x00\xff"}
    for cf in (110, 112):
        assert decode(cf, encode(cf, values, (5, 0)), (5, 0)) == values
        assert decode(cf, encode(cf, values, (5,)), (5,)) == values
        assert decode(cf, encode(cf, values, ()), ()) == values


def test_json_opaque_is_base64url_without_padding_and_objlnk_is_vlo():
    payload = encode(110, {(0, 0, 3): b"\xfb\xff", (1, 0, 10): (11, 0)}, ())
    assert json.loads(payload) == [{"n": "/0/0/3", "vd": "-_8"}, {"n": "/1/0/10", "vlo": "11:0"}]
    assert decode(110, payload, ()) == {(0, 0, 3): b"\xfb\xff", (1, 0, 10): (11, 0)}
    assert decode(110, b'[{"n":"/0/0/3","vd":"+/8="}]', (0,)) == {(0, 0, 3): b"\xfb\xff"}


def test_base_time_resolution_keeps_the_newest_value():
    # Leshan json_timestamped_resources, rewritten in SenML form (bn/bt on the first record).
    payload = (b'[{"bn":"/1024/0/1","bt":25462634,"v":22.9,"t":-30},{"v":22.4,"t":-5},'
               b'{"v":24.1,"t":-50}]')
    records = decode_senml_json_records(payload, (1024, 0, 1), ResourceRegistry())
    assert [(r.time, r.value) for r in records] == [(25462604, 22.9), (25462629, 22.4), (25462584, 24.1)]
    assert decode(110, payload, (1024, 0, 1)) == {(1024, 0, 1): 22.4}


def test_base_name_changes_midway_and_names_without_slash():
    payload = b'[{"bn":"/5/0/","n":"3","v":2},{"bn":"/3/0/","n":"9","v":80},{"n":"0","vs":"x"}]'
    assert decode(110, payload, ()) == {(5, 0, 3): 2, (3, 0, 9): 80, (3, 0, 0): "x"}


def test_integral_float_is_accepted_for_integer_resources():
    assert decode(110, b'[{"bn":"/5/0/3","v":2.0}]', (5, 0, 3)) == {(5, 0, 3): 2}
    assert isinstance(decode(110, b'[{"bn":"/5/0/3","v":2.0}]', (5, 0, 3))[(5, 0, 3)], int)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b'{"bn":"/5/0/3","v":1}', "must be an array"),
        (b"[1]", "must be a map"),
        (b'[{"bn":"/5/0/3"}]', None),  # only base fields: no values, not an error
        (b'[{"n":"/5/0/3"}]', "has no value"),
        (b'[{"n":"/5/0/3","v":1,"vs":"1"}]', "several values"),
        (b'[{"n":"/5/0/3","v":2.5}]', "non-integral"),
        (b'[{"n":"/5/0/3","vs":"2"}]', "integer resource sent as 'vs'"),
        (b'[{"n":"/5/0/1","v":2}]', "string resource got a number"),
        (b'[{"n":"/5/0/3","v":true}]', "'v' must be a number"),
        (b'[{"n":"/5/0/3","v":1,"t":"x"}]', "'t' must be a number"),
        (b'[{"n":"/5/0/2","v":1}]', "executable"),
        (b'[{"n":"/5/x/3","v":1}]', "not a decimal id"),
        (b'[{"n":"/5/0","v":1}]', "not a resource path"),
        (b'[{"n":"/3/0/9","v":1}]', "outside the requested /5/0"),
        (b'[{"bn":5,"n":"/5/0/3","v":1}]', "'bn' must be a string"),
        (b'[{"n":"/5/0/3","v":1,"foo_":1}]', "must-understand"),
        (b'[{"n":"/5/0/0","vd":"@@@"}]', "not base64url"),
        (b'[{"n":"/5/0/99","vlo":"11-0"}]', "not 'object:instance'"),
        (b'[{"n":"/5/0/3","v":1}', "does not parse"),
        (b"\xff[]", "not UTF-8"),
        (b"[" * 100000 + b"]" * 100000, "deeper"),
    ],
)
def test_malformed_senml_json(payload, message):
    if message is None:
        assert decode(110, payload, (5, 0)) == {}
        return
    with pytest.raises(CodecError, match=message):
        decode(110, payload, (5, 0))


@pytest.mark.parametrize(
    "payload, message",
    [
        (LESHAN_OPAQUE_CBOR + b"\x00", "bytes after the pack"),
        (LESHAN_OPAQUE_CBOR[:-1], "does not parse"),
        (bytes.fromhex("a0"), "must be an array"),
        (bytes.fromhex("8101"), "must be a map"),
        (bytes.fromhex("81a1f500"), "neither integer nor text"),
        (b"\x81" * 5000, "does not parse"),  # nesting bound of cbor2
        (bytes.fromhex("81a2") + bytes.fromhex("21662f302f302f33") + bytes.fromhex("0363616263"), "opaque resource sent as 'vs'"),
        (bytes.fromhex("81a2") + bytes.fromhex("21662f302f302f33") + bytes.fromhex("08c11a00000000"), "'vd' must be bytes"),
    ],
)
def test_malformed_senml_cbor(payload, message):
    with pytest.raises(CodecError, match=message):
        decode(112, payload, (0, 0, 3))


def test_encoder_refuses_values_that_do_not_fit_the_resource():
    with pytest.raises(CodecError, match="boolean resource cannot hold"):
        encode(112, {(1, 0, 6): 1}, (1, 0))
    with pytest.raises(CodecError, match="not a resource"):
        encode(110, {(5, 0): 1}, (5,))
    with pytest.raises(CodecError, match="SenML cannot carry nan"):
        encode(110, {(1024, 0, 1): float("nan")}, (1024, 0))
