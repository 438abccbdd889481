"""The virtual board's supervisor: the probe and USB-serial adapter that outlive every power cut.

It owns the flash file, the console TCP port (pyserial opens it as
`socket://127.0.0.1:PORT`) and the control port (rig.sim.control). Power-on starts
the MCU process (bootloader, then the LwM2M client); a cut SIGKILLs its process
group, so whatever the MCU had not yet written to flash is lost, as on a board.
While the target is off, the console is silent and flash access answers
"target unpowered". An MCU that ends while powered (reboot, crash) is started
again, as a reset would restart a real core.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.sim import control, memory_ops, probe_registry
from rig.sim.board_config import BoardConfig
from rig.sim.flash import Flash
from rig.sim.power_loss import parse_cut_line
from rig.sim.spawn import FreshSpawner, McuProcess, ZygoteSpawner

REBOOT_LINE = b"[app] reboot"  # the firmware's last words before a reboot it asked for


def load_target(path: Path) -> tuple[dict[str, Any], Any]:
    """The parsed target file and its FlashLayout; errors name the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RigError(f"target file {path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RigError(f"target file {path}: not valid TOML: {exc}") from None
    return data, FlashLayout.from_target(data, str(path))


class Supervisor:
    def __init__(self, config: BoardConfig) -> None:
        self.config = config
        self.target_data, self.layout = load_target(config.target_path)
        self.target_name = str(self.target_data.get("target", {}).get("name", config.target_path.stem))
        config.directory.mkdir(parents=True, exist_ok=True)
        self.flash_path = config.directory / "flash.bin"
        self.unique_id = self._unique_id()
        self.power = "off"
        self.run_state = "off"  # off | running | halted | reset (held in reset, no process)
        self.mcu: McuProcess | None = None
        self._generation = 0
        self._started_at = 0.0
        self._consoles: set[asyncio.StreamWriter] = set()
        self._event_streams: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task] = set()  # the console relay of each MCU process
        self._servers: list[asyncio.AbstractServer] = []
        self._spawner: FreshSpawner | ZygoteSpawner | None = None
        self._log = (config.directory / "console.log").open("ab")
        self.console_port = 0
        self.control_port = 0
        self.armed: dict[str, Any] | None = None  # a flash-op cut for the next MCU start
        self.last_cut: dict[str, Any] | None = None
        self._registry_entry: Path | None = None

    def _unique_id(self) -> str:
        id_file = self.config.directory / "board-id"
        if not id_file.exists():
            id_file.write_text(f"vsim-{secrets.token_hex(4)}\n")
        return id_file.read_text().strip()

    def _flash(self) -> Any:
        return Flash(self.layout, path=self.flash_path)

    def _prepare_flash(self) -> None:
        if self.flash_path.exists() and self.flash_path.stat().st_size == self.layout.size:
            return
        self.flash_path.write_bytes(bytes([self.layout.erased_value]) * self.layout.size)
        if self.config.image is not None:
            image = self.config.image.read_bytes()
            primary = self.layout.partition("primary")
            if len(image) > primary.size:
                raise RigError(f"image {self.config.image} ({len(image)} bytes) does not fit the primary slot ({primary.size})")
            flash = self._flash()
            flash.erase(primary.offset, primary.size)
            pad = -len(image) % self.layout.write_size
            flash.program(primary.offset, image + bytes([self.layout.erased_value]) * pad)
            flash.flush()

    def mcu_config(self) -> dict[str, Any]:
        c = self.config
        return {
            "flash": str(self.flash_path), "target": str(c.target_path), "server": c.server,
            "endpoint": c.endpoint, "psk": c.psk, "defects": list(c.defects),
            "lifetime": c.lifetime, "block_size": c.block_size, "unique_id": self.unique_id,
            "erase_ms": c.erase_ms, "fetch_timeout": c.fetch_timeout,
            "image_key": str(c.image_key) if c.image_key else None, "downgrade_prevention": c.downgrade_prevention,
            "deferral": c.deferral, "queue_mode": c.queue_mode, "awake": c.awake,
            "bootstrap_server": c.bootstrap_server, "bootstrap_format": c.bootstrap_format,
        }

    # --- lifecycle -------------------------------------------------------

    async def start(self) -> None:
        self._prepare_flash()
        self._spawner = ZygoteSpawner() if self.config.zygote else FreshSpawner()
        console = await asyncio.start_server(self._console_client, "127.0.0.1", self.config.console_port)
        ctl = await asyncio.start_server(self._control_client, "127.0.0.1", self.config.control_port)
        self._servers = [console, ctl]
        self.console_port = console.sockets[0].getsockname()[1]
        self.control_port = ctl.sockets[0].getsockname()[1]
        self._announce()
        if self.config.power_on:
            self.power_on()

    def _announce(self) -> None:
        """board.json (whole, via rename) and the probe registry entry, before anyone is told we are ready."""
        board = self.config.directory / "board.json"
        tmp = board.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({
            "console": f"socket://127.0.0.1:{self.console_port}", "control_port": self.control_port,
            "unique_id": self.unique_id, "pid": os.getpid(), "server": self.config.server,
            "endpoint": self.config.endpoint, "target_file": str(Path(self.config.target_path).resolve()),
            "bootstrap_server": self.config.bootstrap_server, "queue_mode": self.config.queue_mode,
            "lifetime": self.config.lifetime, "awake": self.config.awake,
        }) + "\n")
        os.replace(tmp, board)
        self._registry_entry = probe_registry.register_board(
            self.unique_id, self.control_port, target=self.target_name, directory=self.config.directory)

    async def stop(self) -> None:
        if self._registry_entry is not None:
            probe_registry.unregister(self._registry_entry)
            self._registry_entry = None
        self.power_off()
        for server in self._servers:
            server.close()
        for writer in list(self._consoles) + list(self._event_streams):
            writer.close()
        if self._spawner is not None:
            self._spawner.close()
        self._log.close()

    # --- power and run control ------------------------------------------

    def _emit(self, event: str, **data: Any) -> None:
        line = control.encode_line({"event": event, **data})
        for writer in list(self._event_streams):
            if writer.is_closing():
                self._event_streams.discard(writer)
            else:
                writer.write(line)

    def _start_mcu(self) -> None:
        assert self._spawner is not None
        self._generation += 1
        self._started_at = asyncio.get_running_loop().time()
        config = self.mcu_config()
        if self.armed is not None:  # an armed cut applies to exactly one MCU start: this one
            config["cut"], self.armed = self.armed, None
        self.mcu = self._spawner.start(config)
        self.run_state = "running"
        self._emit("mcu-start", pid=self.mcu.pid, **({"cut_armed": config["cut"]} if "cut" in config else {}))
        relay = asyncio.get_running_loop().create_task(self._relay(self.mcu, self._generation))
        self._relays.add(relay)  # the loop keeps only a weak reference to a task: without ours it can be collected
        relay.add_done_callback(self._relays.discard)

    def _kill_mcu(self) -> None:
        if self.mcu is not None:
            try:
                os.killpg(self.mcu.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.mcu = None
        self._generation += 1

    def power_on(self, halted: bool = False) -> None:
        if self.power == "on":
            return
        self.power = "on"
        self._emit("power", state="on")
        if halted:
            self.run_state = "reset"
        else:
            self._start_mcu()

    def power_off(self) -> None:
        self._kill_mcu()
        if self.power == "on":
            self.power = "off"
            self._emit("power", state="off")
        self.run_state = "off"

    def halt(self) -> None:
        self._require_power()
        if self.mcu is not None and self.run_state == "running":
            try:
                os.killpg(self.mcu.pid, signal.SIGSTOP)
            except ProcessLookupError:
                raise RigError("the MCU is resetting; halt again") from None
            _wait_stopped(self.mcu.pid)
            self.run_state = "halted"

    def resume(self) -> None:
        self._require_power()
        if self.run_state == "halted" and self.mcu is not None:
            os.killpg(self.mcu.pid, signal.SIGCONT)
            self.run_state = "running"
        elif self.run_state == "reset":
            self._start_mcu()

    def reset(self, halt: bool = False) -> None:
        self._require_power()
        self._kill_mcu()
        if halt:
            self.run_state = "reset"
        else:
            self._start_mcu()

    def _require_power(self) -> None:
        if self.power != "on":
            raise RigError("target unpowered")

    async def _relay(self, mcu: McuProcess, generation: int) -> None:
        """Copy the MCU's output to the console clients; restart the MCU if it ends while powered."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        pipe = os.fdopen(mcu.console_fd, "rb", 0)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        last = b""
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                if generation != self._generation:
                    continue  # output raced with a cut: a dead MCU says nothing
                cut = parse_cut_line(line)
                if cut is not None:
                    self._flash_cut(cut)
                    continue
                self._console_line(line)
                last = line
        finally:
            transport.close()
        if generation == self._generation and self.power == "on" and self.run_state in ("running", "halted"):
            self._emit("mcu-exit", pid=mcu.pid)
            try:
                os.killpg(mcu.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.mcu = None
            # A core that faults right after reset restarts at watchdog pace, not in a busy loop;
            # a reboot the firmware asked for ("[app] reboot", e.g. to install) restarts at once.
            lived = asyncio.get_running_loop().time() - self._started_at
            asked = last.rstrip().endswith(REBOOT_LINE)
            await asyncio.sleep(0.5 if lived < 1.0 and not asked else 0.0)
            if generation == self._generation and self.power == "on" and self.mcu is None:
                self._start_mcu()

    def _flash_cut(self, cut: dict[str, Any]) -> None:
        """The MCU reached its armed flash op and stopped there: the power is off now, until the rig turns it on."""
        how = "torn" if cut.get("torn") else "whole"
        self._console_line(f"[rig-sim] power cut at flash op {cut.get('flash_op')} "
                           f"({how} {cut.get('kind')} 0x{cut.get('offset', 0):x}+0x{cut.get('length', 0):x})".encode())
        self.last_cut = cut
        self._emit("flash-cut", **cut)
        self.power_off()

    def _console_line(self, line: bytes) -> None:
        if not line.endswith(b"\n"):
            line += b"\n"
        self._log.write(line)
        self._log.flush()
        for writer in list(self._consoles):
            if writer.is_closing():
                self._consoles.discard(writer)
            else:
                writer.write(line)
        self._emit("console", line=line.decode("utf-8", "replace").rstrip("\n"))

    # --- servers ---------------------------------------------------------

    async def _console_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._consoles.add(writer)
        try:
            while await reader.read(4096):
                pass  # the UART's RX line: the virtual MCU reads no input
        except ConnectionError:
            pass
        finally:
            self._consoles.discard(writer)
            writer.close()

    async def _control_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    request = control.decode_line(line)
                    if request.get("op") == "events":
                        writer.write(control.encode_line({"ok": True}))
                        self._event_streams.add(writer)
                        continue
                    answer = {"ok": True, **self.handle(request)}
                except (RigError, ValueError, KeyError, TypeError, OSError) as exc:
                    answer = {"ok": False, "error": str(exc) or type(exc).__name__}
                writer.write(control.encode_line(answer))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self._event_streams.discard(writer)
            writer.close()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """One control operation (see rig.sim.control); RigError answers carry the reason."""
        op = request.get("op")
        if op == "info":
            return self._info()
        if op == "power":
            action = request.get("action", "status")
            if action == "on":
                self.power_on(halted=bool(request.get("halted", False)))
            elif action in ("off", "cut"):
                self.power_off()
            elif action != "status":
                raise RigError(f"power action {action!r} unknown (use {', '.join(control.POWER_ACTIONS)})")
            return self._status()
        if op in ("halt", "resume"):
            getattr(self, op)()
            return self._status()
        if op == "reset":
            self.reset(halt=bool(request.get("halt", False)))
            return self._status()
        if op in ("read", "erase", "program"):
            self._require_power()
            return memory_ops.memory_op(self._flash(), self.layout, op, request)
        if op == "arm-cut":
            self.armed, self.last_cut = memory_ops.armed_cut(request), None
            return {"armed": self.armed, **self._status()}
        if op == "disarm-cut":
            was, self.armed = self.armed, None
            return {"armed": None, "was": was, **self._status()}
        raise RigError(f"unknown operation {op!r} (use {', '.join(control.OPS)})")

    def _status(self) -> dict[str, Any]:
        return {"power": self.power, "run_state": self.run_state, "pid": self.mcu.pid if self.mcu else None,
                "armed": self.armed, "last_cut": self.last_cut}

    def _info(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id, "target": self.target_name, "console_port": self.console_port,
            "flash": memory_ops.layout_info(self.layout),
            **self._status(),
        }


def _wait_stopped(pid: int, timeout: float = 1.0) -> None:
    """A probe's halt returns once the core has halted: wait for the kernel to stop the process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(") ", 1)[1][:1] in ("T", "t", "Z"):
                    return
        except OSError:
            return  # no /proc (or the process is gone): nothing to wait for
        time.sleep(0.001)


if __name__ == "__main__":  # the board's command line is rig.sim.board_cli (which imports this module)
    sys.exit("python -m rig.sim.supervisor: run the virtual board with `rig sim` or `python -m rig.sim.board_cli`")
