"""100k random and mutated inputs through every decoder a client's bytes reach; only the decoder's own error may escape.

The hypothesis tests (tests/test_codecs_fuzz.py) run a few hundred examples
each on every CI run; this is the long run kept for by hand, seeded so that a
failure is reproducible: it prints the seed, input and traceback of the first
escape of each exception type, and counts per decoder.

    .venv/bin/python scripts/fuzz_codecs.py [--inputs 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections import Counter
from typing import Callable

import cbor2

from rig.lwm2m.codecs import CodecError, decode, parse_links, parse_registration_links
from rig.lwm2m.codecs.formats import DECODERS
from rig.lwm2m.codecs.tlv import parse_tlv
from rig.lwm2m.registration_query import RegistrationQueryError, parse_query

TLV_DEVICE = bytes.fromhex(
    "C800144F70656E204D6F62696C6520416C6C69616E6365C801164c69676874776569676874204d324d20436c69656e74"
    "C80209333435303030313233C303312E30860641000141010588070842000ED842011388870841007D42010384C10964"
    "C10A0F830B410000C40D5182428FC60E2B30323A3030C11055")
SENML_JSON = (b'[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"6/0","v":1},{"n":"6/1","v":5},'
              b'{"n":"9","v":100},{"n":"13","v":1367491215},{"n":"16","vs":"U"},{"n":"/5/0/3","v":2}]')
SENML_CBOR = cbor2.dumps([{-2: "/5/0/", 0: "3", 2: 1}, {0: "5", 2: 0}, {0: "7", 3: "pkg"}, {0: "0", 8: b"\x01\x02"},
                          {0: "/3/0/13", 2: 1367491215, 6: -5}])
LINKS = (b'</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</3>;ver=1.0,</3/0>,</5>;ver=1.1,</5/0>,'
         b'</28180>;ver=0.4,</4/0>;ver="1.2"')
QUERIES = [["ep=dev-1", "lt=60", "lwm2m=1.1", "b=U"], ["ep=urn:imei:490154203237518", "lt=300", "Q"],
           ["lt=86400", "b=UQ", "sms=+4412345"], ["ep=a", "lwm2m=1.0"]]
SEEDS = [TLV_DEVICE, bytes.fromhex("080079") + TLV_DEVICE, SENML_JSON, SENML_CBOR, LINKS, b"2", b"1.1.0+3", b"AQIDBAU="]
BASES = [(), (3,), (3, 0), (3, 0, 6), (3, 0, 6, 1), (5, 0), (5, 0, 0), (5, 0, 3), (1, 0, 10), (1024, 0, 1), (2,)]
FORMATS = [None, *sorted(DECODERS)]
QUERY_ALPHABET = "=;&ep lt b Q sms lwm2m UNSTMQH0123456789.-:\x00\x7f\xe9/\n²٣１"


def mutate(rng: random.Random, data: bytes) -> bytes:
    """Flip, insert, delete, duplicate or cut off a few bytes of a valid input."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.choice(("flip", "set", "insert", "delete", "dup", "truncate"))
        pos = rng.randrange(len(out)) if out else 0
        if op == "flip" and out:
            out[pos] ^= 1 << rng.randrange(8)
        elif op == "set" and out:
            out[pos] = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x22, 0x2C, 0x3C, 0x3E, 0x5B, 0x7B, rng.randrange(256)))
        elif op == "insert":
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif op == "delete" and out:
            del out[pos : pos + rng.randint(1, 4)]
        elif op == "dup" and out:
            out[pos:pos] = out[pos : pos + rng.randint(1, 16)]
        elif op == "truncate":
            del out[pos:]
    return bytes(out)


def payload(rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    return mutate(rng, rng.choice(SEEDS))


def senml_shape(rng: random.Random, depth: int = 0) -> object:
    """Valid JSON/CBOR of a random shape: the SenML layer, not the parser, must refuse it."""
    leaves = [None, True, 1, -1, 2**70, 1.5, float("inf"), "x", "/3/0/1", "", [], {}]
    if depth > 3 or rng.random() < 0.4:
        return rng.choice(leaves)
    if rng.random() < 0.5:
        return [senml_shape(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["bn", "n", "v", "vs", "vb", "vd", "vlo", "t", "bt", "bv", "x_", -2, 0, 2, 3, 4, 6, 8]
    return {rng.choice(keys): senml_shape(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def query(rng: random.Random) -> list[str]:
    if rng.random() < 0.5:
        items = list(rng.choice(QUERIES))
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(items))
            items[i] = mutate(rng, items[i].encode()).decode("utf-8", "replace")
        return items
    return ["".join(rng.choice(QUERY_ALPHABET) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(0, 5))]


def cases(rng: random.Random) -> list[tuple[str, Callable[[], object], type[Exception]]]:
    """One input per decoder family for this round: (name, call, the only exception type allowed)."""
    data, base, fmt = payload(rng), rng.choice(BASES), rng.choice(FORMATS)
    shape = senml_shape(rng)
    try:
        as_cbor = cbor2.dumps(shape)
    except (ValueError, OverflowError):
        as_cbor = b"\x80"
    q, register = query(rng), rng.random() < 0.5
    links = mutate(rng, LINKS) if rng.random() < 0.7 else data
    return [
        (f"decode cf={fmt}", lambda: decode(fmt, data, base), CodecError),
        ("tlv bytes", lambda: parse_tlv(data), CodecError),
        ("senml json shape", lambda: decode(110, json.dumps(shape).encode(), base), CodecError),
        ("senml cbor shape", lambda: decode(112, as_cbor, base), CodecError),
        ("link-format", lambda: parse_links(links), CodecError),
        ("registration links", lambda: parse_registration_links(links), CodecError),
        ("registration query", lambda: parse_query(q, register=register), RegistrationQueryError),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=100_000, help="total inputs (spread over the decoders)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    fed: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    escaped: Counter[str] = Counter()
    first_escape: dict[str, str] = {}
    t0 = time.monotonic()
    while sum(fed.values()) < args.inputs:
        for name, call, allowed in cases(rng):
            family = name.split(" cf=")[0]
            fed[family] += 1
            try:
                call()
            except allowed:
                refused[family] += 1
            except Exception as exc:  # an escape is what this script exists to find
                key = f"{family}: {type(exc).__name__}"
                escaped[key] += 1
                first_escape.setdefault(key, traceback.format_exc(limit=6))
    took = time.monotonic() - t0
    for family in sorted(fed):
        print(f"  {family:<20} {fed[family]:>7} inputs  {refused[family]:>7} refused with the codec's error")
    for key, count in sorted(escaped.items()):
        print(f"ESCAPED {key} x{count}\n{first_escape[key]}", file=sys.stderr)
    total = sum(fed.values())
    print(f"fuzz_codecs: {total} inputs in {took:.1f} s (seed {args.seed}), {sum(escaped.values())} escaped")
    return 1 if escaped else 0


if __name__ == "__main__":
    raise SystemExit(main())
