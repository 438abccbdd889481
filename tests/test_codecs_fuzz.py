"""Every decoder, fed random and mutated bytes, raises CodecError or returns: nothing else escapes.

A client's bad payload must become a 4.00 and a log line, never a traceback in
the server, so anything other than CodecError here is a bug.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest

from rig.lwm2m.codecs import CodecError, decode, parse_links, parse_path, parse_registration_links
from rig.lwm2m.codecs.formats import DECODERS
from rig.lwm2m.codecs.tlv import build_tlv, parse_tlv

from test_codecs_linkformat import WAKAAMA_WITH_RT
from test_codecs_senml import ANJAY_NESTED, LESHAN_DEVICE_CBOR, LESHAN_DEVICE_JSON, LESHAN_OPAQUE_CBOR
from test_codecs_tlv import LESHAN_ACL, LESHAN_OBJ65, SPEC_DEVICE_TLV, SPEC_DEVICE_TLV_WITH_INSTANCE

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

FORMATS = [None, *sorted(DECODERS)]
SEEDS = [SPEC_DEVICE_TLV, SPEC_DEVICE_TLV_WITH_INSTANCE, LESHAN_ACL, LESHAN_OBJ65, LESHAN_DEVICE_CBOR,
         LESHAN_DEVICE_JSON, LESHAN_OPAQUE_CBOR, ANJAY_NESTED, WAKAAMA_WITH_RT, b"2", b"AQIDBAU="]
BASES = st.sampled_from([(), (3,), (3, 0), (3, 0, 6), (3, 0, 6, 1), (5, 0), (5, 0, 0), (5, 0, 3), (5, 0, 8),
                         (1, 0, 6), (1, 0, 10), (1024, 0, 1), (2,)])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid payload with a few bytes flipped, inserted, deleted, or cut off."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[pos:pos] = bytes([draw(st.integers(0, 255))])
        elif op == "delete" and data:
            del data[pos]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


PAYLOADS = st.one_of(st.binary(max_size=300), mutated())


def only_codec_error(call, *args) -> None:
    try:
        call(*args)
    except CodecError:
        pass


@FUZZ
@given(content_format=st.sampled_from(FORMATS), payload=PAYLOADS, base=BASES)
def test_decode_raises_only_codec_error(content_format, payload, base):
    only_codec_error(decode, content_format, payload, base)


@FUZZ
@given(payload=PAYLOADS)
def test_tlv_byte_layer_raises_only_codec_error_and_round_trips_what_it_accepts(payload):
    try:
        entries = parse_tlv(payload)
    except CodecError:
        return
    again = build_tlv(entries)
    assert parse_tlv(again) == entries


@FUZZ
@given(body=st.one_of(PAYLOADS, st.text(alphabet='</>;=",. \\rtoma.lwm2mver0123456789ct\n', max_size=120).map(str.encode)))
def test_link_format_raises_only_codec_error(body):
    only_codec_error(parse_links, body)
    only_codec_error(parse_registration_links, body)


@FUZZ
@given(text=st.text(max_size=40))
def test_parse_path_raises_only_codec_error(text):
    only_codec_error(parse_path, text)


@FUZZ
@given(
    payload=st.one_of(
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
            lambda children: st.one_of(st.lists(children, max_size=4),
                                       st.dictionaries(st.sampled_from(["bn", "n", "v", "vs", "vb", "vd", "vlo", "t", "bt", "x_"]),
                                                       children, max_size=5)),
            max_leaves=20,
        )
    ),
    base=BASES,
)
def test_senml_shapes_raise_only_codec_error(payload, base):
    """Structurally valid JSON/CBOR of the wrong shape: the SenML layer, not the parser, must refuse it."""
    import json

    import cbor2

    only_codec_error(decode, 110, json.dumps(payload).encode(), base)
    labels = {"bn": -2, "n": 0, "v": 2, "vs": 3, "vb": 4, "vd": 8, "t": 6, "bt": -3}

    def relabel(item):
        if isinstance(item, dict):
            return {labels.get(k, k): relabel(v) for k, v in item.items()}
        if isinstance(item, list):
            return [relabel(v) for v in item]
        return item

    only_codec_error(decode, 112, cbor2.dumps(relabel(payload)), base)


QUERY_ITEM = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["ep=dev", "lt=60", "lt=0", "lt=-1", "lt=99999999999", "lwm2m=1.1", "lwm2m=x", "b=U", "b=UQ",
                     "b=", "b=U\n", "Q", "sms=+44", "lt=²", "lt=٣", "lwm2m=١.٢", "lwm2m=1.1\n", "ep=", "ep", "=x", "ep=a\x00b", "ep=" + "e" * 300]),
)


@FUZZ
@given(items=st.lists(QUERY_ITEM, max_size=6), register=st.booleans())
def test_registration_query_raises_only_its_own_error(items, register):
    """The query of Register/Update: anything wrong becomes RegistrationQueryError (a 4.00), and what passes is sane."""
    from rig.lwm2m.registration_query import MAX_ENDPOINT_LEN, RegistrationQueryError, parse_query

    try:
        params = parse_query(items, register=register)
    except RegistrationQueryError:
        return
    if register:
        assert params.endpoint and len(params.endpoint) <= MAX_ENDPOINT_LEN
        assert not any(ord(ch) < 0x20 for ch in params.endpoint)
    else:
        assert params.endpoint is None
    assert params.lifetime is None or 1 <= params.lifetime <= 2**32 - 1
    assert params.lwm2m_version is None or params.lwm2m_version.isascii() and "\n" not in params.lwm2m_version
    assert params.binding is None or params.binding.isalpha() and params.binding.isascii()


def test_registration_query_numbers_are_ascii_digits_only():
    """"²".isdigit() is True but int("²") raises; "٣" would register a 3-second lifetime. Both are 4.00."""
    from rig.lwm2m.registration_query import RegistrationQueryError, parse_query

    for bad in (["ep=a", "lt=²"], ["ep=a", "lt=٣"], ["ep=a", "lwm2m=١.٢"], ["ep=a", "lwm2m=1.1\n"], ["ep=a", "b=U\n"]):
        try:
            parse_query(bad, register=True)
        except RegistrationQueryError as exc:
            assert bad[1].split("=")[0] in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")
    assert parse_query(["ep=a", "lt=60", "lwm2m=1.1", "b=UQ"], register=True).lifetime == 60
