"""Record layer and suites: PRF known answer, seal/open per suite, tamper and replay detection, fragments."""

from __future__ import annotations

import pytest

from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.records import CT_APPLICATION_DATA, ReadState, ReplayWindow, WriteState, parse_records
from rig.lwm2m.dtls.suites import SUITES, BadRecordMac, prf


def test_dtls_prf_sha256_known_answer() -> None:
    # the widely used TLS 1.2 P_SHA256 test vector (IETF TLS WG list)
    out = prf(bytes.fromhex("9bbe436ba940f017b17652849a71db35"), b"test label", bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c"), 100)
    assert out.hex() == (
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def"
        "17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
    )


@pytest.mark.parametrize("code", sorted(SUITES))
def test_dtls_records_seal_open_tamper_replay(code: int) -> None:
    suite = SUITES[code]
    client, server = suite.key_block(bytes(range(48)), b"c" * 32, b"s" * 32)
    write = WriteState(epoch=1, protection=client)
    read = ReadState(epoch=1, protection=client)
    datagram = write.seal(CT_APPLICATION_DATA, b"hello") + write.seal(CT_APPLICATION_DATA, b"")
    first, second = parse_records(datagram)
    assert (first.epoch, first.seq, second.seq) == (1, 0, 1)
    assert read.open(first) == b"hello" and read.open(second) == b""
    assert read.open(first) is None, "a replayed record must be dropped"
    forged = write.seal(CT_APPLICATION_DATA, b"data")
    forged = forged[:-1] + bytes([forged[-1] ^ 1])
    with pytest.raises(BadRecordMac):
        read.open(parse_records(forged)[0])
    wrong_direction = ReadState(epoch=1, protection=server)
    with pytest.raises(BadRecordMac):
        wrong_direction.open(parse_records(write.seal(CT_APPLICATION_DATA, b"x"))[0])


def test_dtls_replay_window_slides() -> None:
    window = ReplayWindow()
    for seq in (5, 3, 70):
        assert not window.is_replay(seq)
        window.accept(seq)
    assert window.is_replay(5) and window.is_replay(70) and window.is_replay(3)  # 3 fell out of the window
    assert not window.is_replay(69) and not window.is_replay(71)


def test_dtls_parse_records_drops_truncated_tail() -> None:
    good = WriteState().seal(22, b"abc")
    assert len(parse_records(good + good[:-1])) == 1
    assert parse_records(b"\x99" + good[1:]) == []


def test_dtls_fragments_reassemble_out_of_order() -> None:
    body = bytes(range(160)) * 3
    frags = [f for raw in m.fragment_message(m.CLIENT_KEY_EXCHANGE, 2, body, 80) for f in m.parse_fragments(raw)]
    assert len(frags) == 6
    reasm = m.Reassembler(2)
    for frag in reversed(frags[1:]):
        reasm.add(frag)
    assert reasm.pop_ready() is None
    reasm.add(frags[0])
    assert reasm.pop_ready() == (m.CLIENT_KEY_EXCHANGE, 2, body)
    with pytest.raises(m.DecodeError):
        m.parse_fragments(m.whole_message(1, 0, b"abc")[:-1])
