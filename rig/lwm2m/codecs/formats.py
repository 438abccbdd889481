"""Content-format dispatch: `decode` and `encode` by CoAP Content-Format number.

When a client sends no Content-Format the payload's shape and the request path
decide, in this order (first decoder that accepts the payload wins):

1. first byte 0x80-0x9f (a CBOR array head)       -> SenML CBOR (112)
2. first non-space char '['                       -> SenML JSON (110)
3. request on a resource or resource instance:
   opaque resource                                -> opaque (42)
   otherwise plain text (0), then TLV (11542)     (Anjay answers one resource in text)
4. request on an object or object instance        -> TLV (11542), then SenML CBOR
   (Wakaama answers TLV; Anjay answers /5/0 in TLV or SenML CBOR)
5. a resource of unknown type whose bytes fit nothing above -> opaque (42)

A CBOR array head is also a TLV multiple-resource header, so step 1 falls
through to TLV when the bytes are not SenML.
"""

from __future__ import annotations

from typing import Callable

from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m.codecs.senml_cbor import decode_senml_cbor, encode_senml_cbor
from rig.lwm2m.codecs.senml_json import decode_senml_json, encode_senml_json
from rig.lwm2m.codecs.text import decode_opaque, decode_text, encode_opaque, encode_text
from rig.lwm2m.codecs.tlv import decode_tlv, encode_tlv
from rig.lwm2m.codecs.values import Value, where
from rig.lwm2m.paths import Path, check_path
from rig.lwm2m.resource_types import ResourceRegistry, ResourceType

CF_TEXT = 0
CF_LINK = 40
CF_OPAQUE = 42
CF_SENML_JSON = 110
CF_SENML_CBOR = 112
CF_TLV = 11542
CF_LEGACY_TLV = 1542  # pre-registration number used by LwM2M 1.0 drafts and old Wakaama
CF_LWM2M_JSON = 11543  # OMA JSON of LwM2M 1.0: not supported, named so the error can say so

Decoder = Callable[[bytes, Path, ResourceRegistry], dict[Path, Value]]
Encoder = Callable[[dict[Path, Value], Path, ResourceRegistry], bytes]

DECODERS: dict[int, Decoder] = {
    CF_TEXT: decode_text,
    CF_OPAQUE: decode_opaque,
    CF_TLV: decode_tlv,
    CF_LEGACY_TLV: decode_tlv,
    CF_SENML_JSON: decode_senml_json,
    CF_SENML_CBOR: decode_senml_cbor,
}
ENCODERS: dict[int, Encoder] = {
    CF_TEXT: encode_text,
    CF_OPAQUE: encode_opaque,
    CF_TLV: encode_tlv,
    CF_SENML_JSON: encode_senml_json,
    CF_SENML_CBOR: encode_senml_cbor,
}


def decode(
    content_format: int | None, payload: bytes, base: Path, registry: ResourceRegistry | None = None
) -> dict[Path, Value]:
    """Decode a client's payload for a request on `base` into {resource (instance) path: value}.

    Raises CodecError (and nothing else) for any malformed payload.
    """
    registry = registry or ResourceRegistry()
    check_path(base)
    payload = bytes(payload)
    if content_format is None:
        return _guess(payload, base, registry)
    decoder = DECODERS.get(int(content_format))
    if decoder is None:
        raise CodecError(f"content format {int(content_format)} is not supported for {where(base)}")
    return decoder(payload, base, registry)


def encode(
    content_format: int, values: dict[Path, Value], base: Path, registry: ResourceRegistry | None = None
) -> bytes:
    """Encode values for a Write (or an answer) on `base` in the given content format."""
    registry = registry or ResourceRegistry()
    if content_format is None:
        raise CodecError(f"encoding for {where(base)} needs a content format")
    encoder = ENCODERS.get(int(content_format))
    if encoder is None:
        raise CodecError(f"content format {int(content_format)} cannot be encoded")
    return encoder(values, base, registry)


def guess_order(payload: bytes, base: Path, registry: ResourceRegistry) -> list[int]:
    """Content formats to try, most likely first (see the module docstring)."""
    order: list[int] = []
    if payload and 0x80 <= payload[0] <= 0x9F:
        order.append(CF_SENML_CBOR)
    if payload.lstrip(b" \t\r\n")[:1] == b"[":
        order.append(CF_SENML_JSON)
    if len(base) >= 3:
        rtype = registry.type_of(base)
        if rtype is ResourceType.OPAQUE:
            order.append(CF_OPAQUE)
        order += [CF_TEXT, CF_TLV]
        if rtype is None:
            order.append(CF_OPAQUE)
    else:
        order += [CF_TLV, CF_SENML_CBOR]
    return list(dict.fromkeys(order))


def _guess(payload: bytes, base: Path, registry: ResourceRegistry) -> dict[Path, Value]:
    if not payload and len(base) < 3:
        return {}
    problems = []
    for content_format in guess_order(payload, base, registry):
        try:
            return DECODERS[content_format](payload, base, registry)
        except CodecError as exc:
            problems.append(f"{content_format}: {exc}")
    raise CodecError(f"payload for {where(base)} without Content-Format fits no format ({'; '.join(problems)})")
