"""A pre-imported MCU process template: power-on becomes a fork, not a fresh interpreter.

The supervisor starts this once (`python -m rig.sim.zygote FD`, FD a Unix socket).
It imports everything the MCU process needs, then for each request (a JSON line
carrying the MCU config, with the console pipe's write end passed as an fd) forks a
child that starts its own session (so a cut can SIGKILL its whole process group),
puts the console pipe on stdout/stderr and runs rig.sim.mcu. It answers with the pid.
Children are reaped by the kernel (SIGCHLD ignored); the supervisor sees an MCU end
as EOF on its console pipe. Single-threaded on purpose: forking a threaded process is unsafe.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import traceback

from rig.sim import mcu  # the point of a zygote: import once, fork many
from rig.sim.parent_death import die_with_parent


def _child(sock: socket.socket, console_fd: int, config: dict, ready_fd: int, parent: int) -> None:
    die_with_parent(parent)
    os.setsid()
    os.write(ready_fd, b"!")  # the parent answers with our pid only once we lead our own group
    os.close(ready_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sock.close()
    os.dup2(console_fd, 1)
    os.dup2(console_fd, 2)
    os.close(console_fd)
    code = 1
    try:
        code = mcu.main(config)
    except BaseException:  # a fault in the MCU ends it like a watchdog reset: print and go
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(sock: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    buffer = b""
    fds: list[int] = []
    while True:
        data, new_fds, _flags, _addr = socket.recv_fds(sock, 65536, 4)
        if not data:
            return
        buffer += data
        fds += new_fds
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            if not fds:
                sock.sendall(b'{"error":"no console fd passed"}\n')
                continue
            console_fd = fds.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            ready_r, ready_w = os.pipe()
            me = os.getpid()
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                _child(sock, console_fd, request["config"], ready_w, me)
            os.close(ready_w)
            os.read(ready_r, 1)
            os.close(ready_r)
            os.close(console_fd)
            sock.sendall((json.dumps({"pid": pid}) + "\n").encode())


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        serve(sock)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
