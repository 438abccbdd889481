"""What one virtual board is made of: its directory and target, its server, its defects and its knobs.

A plain record so `rig sim`, the launcher and tests build a board the same way,
and the supervisor turns it into the MCU's configuration at every power-on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class BoardConfig:
    """Everything one virtual board needs; `rig sim` builds it from its options."""

    directory: Path
    target_path: Path
    server: str | None = None
    endpoint: str = "rig-virtual"
    psk: str | None = None  # "identity:hexkey"
    defects: list[str] = field(default_factory=list)
    console_port: int = 0
    control_port: int = 0
    image: Path | None = None  # factory-programmed into the primary slot when the flash file is new
    zygote: bool = True
    power_on: bool = True
    lifetime: int = 60
    block_size: int = 512
    erase_ms: float = 0.0  # simulated sector erase time (0: instant)
    fetch_timeout: float | None = None  # s the client waits for a Block2 answer (None: the target's EXCHANGE_LIFETIME)
    image_key: Path | None = None  # the bootloader accepts only images signed with this key (PEM)
    downgrade_prevention: bool = False
    deferral: str = "optional"  # which updates the board's user defers (rig.sim.app.deferral.POLICIES)
    queue_mode: bool = False  # register with Q; the radio sleeps between wake-ups (rig.sim.app.radio)
    awake: float | None = None  # s awake after each message sent in queue mode (None: the target's MAX_TRANSMIT_WAIT)
    bootstrap_server: str | None = None  # bootstrap first, at every boot (rig.sim.app.bootstrap); `server` is unused
    bootstrap_format: str = "tlv"  # what the Bootstrap-Request asks the writes in: "tlv" or "senml-cbor" (pct=112)
