"""lwm2m.deferral.how = "console": the rig types the target file's line on the place's console (pyserial over a
real loopback socket, as a USB-serial console is reached) and records it in the timeline. The virtual board reads
no console input, so this stops at the wire: what the device does with the line is the device's."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import replace

from sim_board import layout

from rig.place.session import PlaceSession
from rig.console.serial import SerialConsole
from rig.conformance.v11_steps import make_defer, undo_defer
from rig.lwm2m.deferral_profile import DeferralProfile
from rig.lwm2m.profile import Profile
from rig.timeline import Timeline


def test_the_console_line_goes_out_and_into_the_timeline():
    listener = socket.create_server(("127.0.0.1", 0))
    received = bytearray()
    done = threading.Event()

    def uart() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            while received.count(b"\n") < 2:
                chunk = conn.recv(100)
                if not chunk:
                    break
                received.extend(chunk)
        done.set()

    threading.Thread(target=uart, daemon=True).start()
    timeline = Timeline()
    console = SerialConsole(f"socket://127.0.0.1:{listener.getsockname()[1]}", timeline=timeline)
    profile = replace(Profile(), deferral=DeferralProfile("console", command="fw later", undo="fw now"))
    session = PlaceSession("p", "ep", layout(), profile, 5.0, None, None, console, None, timeline)
    try:
        asyncio.run(make_defer(session))
        asyncio.run(undo_defer(session))
        assert done.wait(10)
    finally:
        console.close()
        listener.close()
    assert bytes(received) == b"fw later\nfw now\n"
    assert [e.data["line"] for e in timeline.events("console-input")] == ["fw later", "fw now"]
