"""How long the CBC suite takes to refuse a record with bad padding, against one with a bad MAC (issue 17).

Before the fix bad padding failed before the MAC ran (about 12 us against 25 us):
a padding oracle. Now both run the same checks and hash the same number of
bytes; this measures the two in the same run, interleaved, and prints their
ratio (1.00 is the aim; Python's own noise is a few percent). Run by hand:

    .venv/bin/python bench/cbc_timing.py [--rounds 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from rig.lwm2m.dtls.records import CT_APPLICATION_DATA, DTLS_1_2
from rig.lwm2m.dtls.suites import SUITES, TLS_PSK_WITH_AES_128_CBC_SHA256, BadRecordMac


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=20000)
    args = p.parse_args()
    read, _ = SUITES[TLS_PSK_WITH_AES_128_CBC_SHA256].key_block(bytes(48), b"c" * 32, b"s" * 32)
    seq = bytes(8)

    def record(plain: bytes) -> bytes:
        enc = Cipher(algorithms.AES(read._key), modes.CBC(bytes(16))).encryptor()
        return bytes(16) + enc.update(plain) + enc.finalize()

    records = {
        "bad padding": record(b"y" * 255 + b"\x07"),
        "bad MAC, 1 padding byte": record(b"y" * 254 + b"\x01\x01"),
        "bad MAC, 128 padding bytes": record(b"y" * 128 + bytes([127]) * 128),
    }
    times: dict[str, list[float]] = {name: [] for name in records}
    for _ in range(args.rounds):
        for name, body in records.items():  # interleaved, so load changes hit every kind alike
            start = time.perf_counter()
            try:
                read.open(seq, CT_APPLICATION_DATA, DTLS_1_2, body)
            except BadRecordMac:
                pass
            times[name].append(time.perf_counter() - start)
    reference = statistics.median(times["bad MAC, 1 padding byte"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:28s} median {median * 1e6:7.2f} us  ratio {median / reference:5.2f}")


if __name__ == "__main__":
    main()
