"""SerialConsole over real ports: a pty pair, a TCP server (socket://), pyserial's RFC 2217 server side, loop://.

Each transport must deliver timestamped lines, and a vanished port must end a
waiting expect with ConsoleClosed at once, not after its timeout.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import serial
import serial.rfc2217

from rig.console.base import ConsoleClosed, ConsoleError
from rig.console.serial import SerialConsole

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

LONG = 20.0  # an expect timeout no passing test gets near: a hang would show as a 20 s test


def _expect_closed_quickly(console: SerialConsole, pattern: str) -> ConsoleClosed:
    start = time.monotonic()
    with pytest.raises(ConsoleClosed) as info:
        console.expect(pattern, timeout=LONG)
    assert time.monotonic() - start < LONG / 4, "a vanished port must fail fast, not run into the timeout"
    return info.value


def test_console_serial_pty_lines_and_vanish(timeline, tmp_path):
    master, slave = os.openpty()
    path = os.ttyname(slave)
    console = SerialConsole(path, name="k64f-1", timeline=timeline, log_path=tmp_path / "case1.log")
    try:
        os.write(master, b"*** Booting Zephyr OS ***\r\nI: Starting bootloader\r\npartial")
        assert console.expect(r"Starting (\w+)", timeout=5).group(1) == "bootloader"
        console.write("help\n")
        assert os.read(master, 100).startswith(b"help")
        events = timeline.events("console")
        assert [e.data["line"] for e in events] == ["*** Booting Zephyr OS ***", "I: Starting bootloader"]
        assert all(e.data["place"] == "k64f-1" for e in events)
        os.close(master)
        os.close(slave)
        err = _expect_closed_quickly(console, "never")
        assert path in str(err) and "k64f-1" in str(err) and "Starting bootloader" in str(err)
        assert "'partial'" in str(err), "the unterminated last line is kept when the port dies"
    finally:
        console.close()


def test_console_serial_busy_device_names_holder(tmp_path):
    master, slave = os.openpty()
    path = os.ttyname(slave)
    first = SerialConsole(path)
    try:
        with pytest.raises(ConsoleError, match=rf"cannot open console {path} .*"):
            SerialConsole(path, name="k64f-1")
    finally:
        first.close()
        os.close(master)
        os.close(slave)


def test_console_serial_missing_device_is_clear():
    with pytest.raises(ConsoleError, match="cannot open console /dev/rig-nope for place p1: .*no such device"):
        SerialConsole("/dev/rig-nope", name="p1")


class LineServer:
    """A TCP server on 127.0.0.1 that accepts one client, like the virtual board's console port."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.client: socket.socket | None = None
        self.accepted = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.client, _ = self.sock.accept()
        self.accepted.set()

    def send(self, data: bytes) -> None:
        assert self.accepted.wait(5)
        self.client.sendall(data)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.sock.close()


def test_console_serial_socket_lines_and_vanish(timeline):
    server = LineServer()
    console = SerialConsole(f"socket://127.0.0.1:{server.port}", name="virtual-1", timeline=timeline)
    try:
        server.send(b"registered as urn:dev:1\nsecond line\n")
        console.expect("registered", timeout=5)
        console.expect("second", timeout=5)
        console.write(b"ping\n")
        assert server.client.recv(10) == b"ping\n"
        server.close()
        err = _expect_closed_quickly(console, "never")
        assert "socket disconnected" in str(err)
    finally:
        console.close()
        server.close()


class Rfc2217Server:
    """pyserial's own RFC 2217 server side (PortManager) in front of a loop:// port, as in its rfc2217_server example.

    What the client writes comes back to it; `inject` plays the board's UART output. (A pty cannot stand in:
    PortManager reads modem lines, which a pty does not have.)
    """

    def __init__(self) -> None:
        self.serial = serial.serial_for_url("loop://", timeout=0.05)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.alive = True
        self.client: socket.socket | None = None
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def inject(self, data: bytes) -> None:
        self.serial.write(data)

    def write(self, data: bytes) -> None:  # PortManager sends its telnet negotiation through this
        with self._lock:
            self.client.sendall(data)

    def _serve(self) -> None:
        self.client, _ = self.sock.accept()
        self.manager = serial.rfc2217.PortManager(self.serial, self)
        threading.Thread(target=self._serial_to_socket, daemon=True).start()
        try:
            while self.alive:
                data = self.client.recv(1024)
                if not data:
                    break
                self.serial.write(b"".join(self.manager.filter(data)))
        except OSError:
            pass

    def _serial_to_socket(self) -> None:
        try:
            while self.alive:
                data = self.serial.read(self.serial.in_waiting or 1)
                if data:
                    self.write(b"".join(self.manager.escape(data)))
        except (OSError, serial.SerialException):
            pass

    def drop_client(self) -> None:
        self.alive = False
        self.client.shutdown(socket.SHUT_RDWR)
        self.client.close()

    def close(self) -> None:
        self.alive = False
        self.sock.close()
        self.serial.close()


def test_console_serial_rfc2217_lines_and_vanish(timeline):
    server = Rfc2217Server()
    console = SerialConsole(f"rfc2217://127.0.0.1:{server.port}", baudrate=115200, name="bench-1", timeline=timeline)
    try:
        server.inject(b"uart line \xff with IAC byte\r\n")  # 0xff must survive RFC 2217 escaping
        found = console.expect(r"uart line (.) with IAC", timeout=5)
        assert found.group(1) == "\ufffd"
        console.write(b"reboot\n")  # through the server's loop port and back
        console.expect("^reboot$", timeout=5)
        server.drop_client()
        err = _expect_closed_quickly(console, "never")
        assert "rfc2217://127.0.0.1" in str(err)
    finally:
        console.close()
        server.close()


def test_console_serial_loop(timeline):
    console = SerialConsole("loop://", timeline=timeline)
    try:
        console.write("echo one\r\necho two\r\n")
        console.expect("one", timeout=5)
        assert console.expect("two", timeout=5).string == "echo two"
    finally:
        console.close()
