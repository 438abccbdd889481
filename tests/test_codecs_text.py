"""Plain text (0), opaque (42), and the guess made when a client sends no Content-Format."""

from __future__ import annotations

import pytest

from rig.lwm2m.codecs import CodecError, decode, encode, guess_order
from rig.lwm2m.resource_types import ResourceDef, ResourceRegistry, ResourceType

from test_codecs_senml import LESHAN_DEVICE_CBOR, LESHAN_DEVICE_JSON
from test_codecs_tlv import SPEC_DEVICE_TLV, SPEC_DEVICE_VALUES

FLOATS = ResourceRegistry().with_object(3303, {5700: ResourceDef("Sensor Value", ResourceType.FLOAT)})


@pytest.mark.parametrize(
    "payload, base, expected",
    [
        (b"MyManufacturer", (3, 0, 0), "MyManufacturer"),  # Leshan text_manufacturer_resource
        (b"100", (3, 0, 9), 100),  # Leshan text_battery_resource
        (b"AQIDBAU=", (5, 0, 0), b"\x01\x02\x03\x04\x05"),  # Leshan text_decode_opaque_from_base64_string
        (b"1367491215", (3, 0, 13), 1367491215),
        (b"-5", (5, 0, 3), -5),
        (b"1", (1, 0, 6), True),
        (b"0", (1, 0, 6), False),
        (b"11:0", (1, 0, 10), (11, 0)),
        (b"3", (3, 0, 6, 0), 3),
        (b"", (5, 0, 1), ""),
        (b"caf\xc3\xa9", (1024, 0, 0), "caf\u00e9"),
    ],
)
def test_text_values_typed_through_the_registry(payload, base, expected):
    assert decode(0, payload, base) == {base: expected}


def test_text_float():
    assert decode(0, b"-21.5e1", (3303, 0, 5700), FLOATS) == {(3303, 0, 5700): -215.0}
    assert encode(0, {(3303, 0, 5700): 0.1}, (3303, 0, 5700), FLOATS) == b"0.1"


@pytest.mark.parametrize(
    "payload, base, message",
    [
        (b"!,-INVALID$_'", (5, 0, 0), "not base64"),  # Leshan text_decode_should_throw_an_exception_for_invalid_base64
        (b"two", (5, 0, 3), "not a decimal integer"),
        (b"1_000", (5, 0, 3), "not a decimal integer"),
        (b" 1", (5, 0, 3), "not a decimal integer"),
        (b"99999999999999999999", (5, 0, 3), "out of range"),
        (b"-1", (5, 0, 13), "out of range"),
        (b"true", (1, 0, 6), "'0' or '1'"),
        (b"11", (1, 0, 10), "not 'object:instance'"),
        (b"70000:0", (1, 0, 10), "above 65535"),
        (b"\xff", (5, 0, 1), "not UTF-8"),
        (b"1", (5, 0), "only a resource or resource instance"),
        (b"1", (5, 0, 8), "multiple-instance resource"),
        (b"", (5, 0, 2), "executable"),
    ],
)
def test_bad_text(payload, base, message):
    with pytest.raises(CodecError, match=message):
        decode(0, payload, base)


def test_bad_text_float():
    for text in (b"nan", b"inf", b"1e999", b"0x10", b"1.2.3"):
        with pytest.raises(CodecError):
            decode(0, text, (3303, 0, 5700), FLOATS)


def test_text_encoding():
    assert encode(0, {(1, 0, 6): True}, (1, 0, 6)) == b"1"
    assert encode(0, {(1, 0, 10): (11, 0)}, (1, 0, 10)) == b"11:0"
    assert encode(0, {(5, 0, 0): b"\x01\x02"}, (5, 0, 0)) == b"AQI="
    assert encode(0, {(5, 0, 1): "coap://h/fw"}, (5, 0, 1)) == b"coap://h/fw"
    with pytest.raises(CodecError, match="exactly the value of /5/0/1"):
        encode(0, {(5, 0, 1): "a", (5, 0, 3): 1}, (5, 0, 1))


def test_opaque():
    assert decode(42, b"\x00\xff", (5, 0, 0)) == {(5, 0, 0): b"\x00\xff"}
    assert encode(42, {(5, 0, 0): b"\x00"}, (5, 0, 0)) == b"\x00"
    with pytest.raises(CodecError, match="needs bytes"):
        encode(42, {(5, 0, 0): "x"}, (5, 0, 0))
    with pytest.raises(CodecError, match="only a resource"):
        decode(42, b"x", (5,))


def test_unsupported_content_formats_are_named():
    with pytest.raises(CodecError, match="content format 11543 is not supported"):
        decode(11543, b"{}", (3, 0))
    with pytest.raises(CodecError, match="content format 40 cannot be encoded"):
        encode(40, {}, (3, 0))


def test_guess_without_content_format():
    # Anjay answers a single resource in text, an instance in TLV or SenML CBOR; Wakaama answers TLV.
    assert decode(None, b"2", (5, 0, 3)) == {(5, 0, 3): 2}
    assert decode(None, b"\xC1\x03\x02", (5, 0, 3)) == {(5, 0, 3): 2}
    assert decode(None, SPEC_DEVICE_TLV, (3, 0)) == SPEC_DEVICE_VALUES
    assert decode(None, LESHAN_DEVICE_CBOR, (3, 0)) == SPEC_DEVICE_VALUES
    assert decode(None, LESHAN_DEVICE_JSON, (3, 0)) == SPEC_DEVICE_VALUES
    assert decode(None, b"\x86\x08\x41\x00\x00\x41\x01\x01", (5, 0, 8)) == {(5, 0, 8, 0): 0, (5, 0, 8, 1): 1}
    assert decode(None, b"\xff\xfe", (5, 0, 0)) == {(5, 0, 0): b"\xff\xfe"}
    assert decode(None, b"\xff\xfe", (1024, 0, 0)) == {(1024, 0, 0): b"\xff\xfe"}
    assert decode(None, b"", (5, 0)) == {}


def test_guess_order_is_documented_order():
    registry = ResourceRegistry()
    assert guess_order(b"2", (5, 0, 3), registry) == [0, 11542]
    assert guess_order(b"\x81", (5, 0), registry) == [112, 11542]
    assert guess_order(b"[{}]", (5, 0), registry) == [110, 11542, 112]
    assert guess_order(b"x", (5, 0, 0), registry) == [42, 0, 11542]


def test_guess_failure_lists_every_attempt():
    with pytest.raises(CodecError, match="fits no format") as info:
        decode(None, b"\xC1", (5, 0))
    assert "11542:" in str(info.value) and "112:" in str(info.value)
