"""What the rig does with a place's power when a command starts using the board and when it lets go.

The promise: a board ends in its place's safe state however a command ends,
except where the operator asked for the power to stay (`rig power on`, console,
flash, dump) and the power's state outlives the command anyway (`persistent`: a
hub port, the virtual board's supervisor, a person). A GPIO pin, a relay lease
or a host process ends with the command, so it always ends in the safe state.
The rules read the backends' capabilities, never their names.
"""

from __future__ import annotations

from rig.power.base import Power


def power_for_probe(power: Power | None) -> None:
    """A relay-powered board is off whenever the rig does not drive it: switch it on for the probe. Persistent
    power stays as the operator left it; a host process's flash is a file, read with the process stopped."""
    if power is not None and power.powers_probe and not power.persistent:
        power.on()


def power_for_server(power: Power) -> None:
    """Before waiting for the device to register: switch the board on unless it is on already, or switching asks a
    person (who powers the board as the command's banner says)."""
    if not power.asks_operator and not power.is_on():
        power.on()


def stays_on_after(power: Power) -> bool:
    """Whether the power can stay as switched once the command ends (`rig power on` leaves the board on)."""
    return power.persistent


def release(power: Power, keep_power: bool) -> None:
    """Let go of the power: as it is when the operator keeps it and it outlives the command, else its safe state."""
    if keep_power and power.persistent:
        power.detach()
    else:
        power.close()
