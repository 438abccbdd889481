"""A minimal DTLS 1.2 PSK client for tests, built on the rig's own record and suite code.

It behaves like an mbedtls client (its first ClientHello goes out with record
version 0xFE00, as Anjay's does) and adds what interop clients cannot: dropping
chosen incoming datagrams to force server retransmission, a fixed source port
to play a rebooted board, and no retransmission of its own unless asked.
Blocking sockets with timeouts; run it in a thread from async tests.
"""

from __future__ import annotations

import hashlib
import os
import socket
from typing import Callable

from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.records import (
    CT_ALERT,
    CT_APPLICATION_DATA,
    CT_CHANGE_CIPHER_SPEC,
    CT_HANDSHAKE,
    DTLS_1_2,
    ReadState,
    Record,
    WriteState,
    parse_records,
)
from rig.lwm2m.dtls.suites import (
    SUITES,
    BadRecordMac,
    TLS_PSK_WITH_AES_128_CCM_8,
    finished_verify_data,
    master_secret,
    psk_premaster,
)


class ClientError(Exception):
    pass


class UdpLink:
    """A real UDP socket on 127.0.0.1 (optionally on a fixed port, to play a rebooted board)."""

    def __init__(self, server: tuple[str, int], bind_port: int = 0, timeout: float = 5.0) -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if bind_port:  # only to take a given port again: with SO_REUSEADDR on port 0, Linux may give two sockets one port
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", bind_port))
        self.sock.settimeout(timeout)
        self.local_port = self.sock.getsockname()[1]

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def recv(self) -> bytes:
        try:
            return self.sock.recvfrom(4096)[0]
        except socket.timeout:
            raise ClientError("timed out waiting for the server") from None

    def close(self) -> None:
        self.sock.close()


class DtlsTestClient:
    def __init__(
        self,
        link: "UdpLink | object",
        identity: bytes,
        key: bytes,
        suites: tuple[int, ...] = (TLS_PSK_WITH_AES_128_CCM_8,),
        hello_record_version: int = 0xFE00,
        extended_master_secret: bool = True,
        drop_incoming: Callable[[int, bytes], bool] | None = None,
    ) -> None:
        self.link = link
        self.identity = identity
        self.key = key
        self.suites = suites
        self.hello_record_version = hello_record_version
        self.ems = extended_master_secret
        self.drop_incoming = drop_incoming
        self.incoming = 0
        self.write0 = WriteState()
        self.write1: WriteState | None = None
        self.read1: ReadState | None = None
        self.suite_name = ""

    # -- transport ---------------------------------------------------------------------------

    def _recv_records(self) -> list[Record]:
        while True:
            data = self.link.recv()
            index = self.incoming
            self.incoming += 1
            if self.drop_incoming and self.drop_incoming(index, data):
                continue
            return parse_records(data)

    def _hs_messages(self, reasm: m.Reassembler, want_last: int) -> list[tuple[int, int, bytes]]:
        """Collect handshake messages (epoch 0) until one of type `want_last` is complete."""
        got: list[tuple[int, int, bytes]] = []
        while True:
            for rec in self._recv_records():
                if rec.content_type == CT_ALERT:
                    raise ClientError(f"server sent alert {rec.body[1] if len(rec.body) > 1 else '?'}")
                if rec.content_type != CT_HANDSHAKE or rec.epoch != 0:
                    continue
                for frag in m.parse_fragments(rec.body):
                    if frag.msg_type == m.HELLO_VERIFY_REQUEST:
                        got.append((frag.msg_type, frag.message_seq, frag.body))
                        return got
                    reasm.add(frag)
                while (ready := reasm.pop_ready()) is not None:
                    got.append(ready)
                    if ready[0] == want_last:
                        return got

    # -- handshake ---------------------------------------------------------------------------

    def _hello(self, cookie: bytes, random: bytes) -> bytes:
        extensions = {m.EXT_EXTENDED_MASTER_SECRET: b""} if self.ems else {}
        return m.ClientHello(DTLS_1_2, random, b"", cookie, list(self.suites), b"\x00", extensions).encode()

    def handshake(self) -> None:
        self.start()
        self.finish()

    def start(self) -> None:
        """ClientHello, HelloVerifyRequest, ClientHello with cookie (sent; the server's answer is not read yet)."""
        self._random = random = os.urandom(32)
        first = m.whole_message(m.CLIENT_HELLO, 0, self._hello(b"", random))
        self.write0.next_seq = 0
        self.link.send(self.write0.seal(CT_HANDSHAKE, first, self.hello_record_version))
        hvr = self._hs_messages(m.Reassembler(0), m.HELLO_VERIFY_REQUEST)
        if hvr[-1][0] != m.HELLO_VERIFY_REQUEST:
            raise ClientError("expected HelloVerifyRequest")
        cookie = m.parse_cookie(hvr[-1][2])
        hello_body = self._hello(cookie, random)
        self._transcript = transcript = [m.whole_message(m.CLIENT_HELLO, 1, hello_body)]
        self.link.send(self.write0.seal(CT_HANDSHAKE, transcript[0], self.hello_record_version))

    def resend_hello(self) -> None:
        """What a client does when the server's flight does not arrive."""
        self.link.send(self.write0.seal(CT_HANDSHAKE, self._transcript[0], self.hello_record_version))

    def finish(self) -> None:
        """ServerHello..ServerHelloDone in; ClientKeyExchange, ChangeCipherSpec, Finished out; server Finished in."""
        random, transcript = self._random, self._transcript
        flight = self._hs_messages(m.Reassembler(1), m.SERVER_HELLO_DONE)
        sh = m.ServerHello.parse(flight[0][2])
        suite = SUITES[sh.suite]
        self.suite_name = suite.name
        transcript += [m.whole_message(t, s, b) for t, s, b in flight]
        next_seq = 2  # ClientHello took 0 and 1
        cke = m.whole_message(m.CLIENT_KEY_EXCHANGE, next_seq, m.psk_identity_vector(self.identity))
        transcript.append(cke)
        ems = m.EXT_EXTENDED_MASTER_SECRET in sh.extensions and self.ems
        session_hash = hashlib.sha256(b"".join(transcript)).digest() if ems else None
        master = master_secret(psk_premaster(self.key), random, sh.random, session_hash)
        client_prot, server_prot = suite.key_block(master, random, sh.random)
        self.write1 = WriteState(epoch=1, protection=client_prot)
        self.read1 = ReadState(epoch=1, protection=server_prot)
        verify = finished_verify_data(master, True, hashlib.sha256(b"".join(transcript)).digest())
        fin = m.whole_message(m.FINISHED, next_seq + 1, verify)
        transcript.append(fin)
        self._final_msgs = (cke, fin)
        self.resend_final_flight()
        self._expected_finished = finished_verify_data(master, False, hashlib.sha256(b"".join(transcript)).digest())
        self._await_finished()

    def _await_finished(self) -> None:
        assert self.read1 is not None
        expected = self._expected_finished
        while True:
            for rec in self._recv_records():
                if rec.content_type == CT_ALERT and rec.epoch == 0:
                    raise ClientError(f"server sent alert {rec.body[1]}")
                if rec.epoch == 1 and rec.content_type == CT_HANDSHAKE:
                    try:
                        plaintext = self.read1.open(rec)
                    except BadRecordMac:
                        continue  # another session's record on this address
                    frag = m.parse_fragments(plaintext or b"")[0]
                    if frag.msg_type != m.FINISHED or frag.body != expected:
                        raise ClientError("server Finished does not verify")
                    return

    # -- application data --------------------------------------------------------------------

    def send(self, plaintext: bytes) -> None:
        assert self.write1 is not None
        self.link.send(self.write1.seal(CT_APPLICATION_DATA, plaintext))

    def recv(self) -> bytes:
        """The next application-data plaintext from the server."""
        assert self.read1 is not None
        while True:
            for rec in self._recv_records():
                if rec.epoch == 1 and rec.content_type == CT_APPLICATION_DATA:
                    try:
                        plaintext = self.read1.open(rec)
                    except BadRecordMac:
                        continue
                    if plaintext is not None:
                        return plaintext

    def resend_final_flight(self) -> None:
        """Send (again) ClientKeyExchange, ChangeCipherSpec, Finished, with fresh record numbers (RFC 6347 4.2.4)."""
        assert self.write1 is not None
        cke, fin = self._final_msgs
        self.link.send(self.write0.seal(CT_HANDSHAKE, cke) + self.write0.seal(CT_CHANGE_CIPHER_SPEC, b"\x01")
                       + self.write1.seal(CT_HANDSHAKE, fin))

    def await_finished(self) -> None:
        self._await_finished()

    def close(self) -> None:
        """Drop the socket without close_notify, as a board does when its power is cut."""
        self.link.close()
