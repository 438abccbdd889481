"""Field defects the virtual board can be switched to, by name.

Each is a bug seen in real devices, and each must be caught by a rule the rig
applies to every target (a hard invariant of docs/object5.md or a flash verdict), not
by a check written for that defect: switched on one at a time they calibrate the
rig's verdicts. Image behaviours (crash, never confirm) are flags inside an image,
not defects of the client: see IMAGE_MARKERS.
"""

from __future__ import annotations

from rig.errors import RigError

DEFECTS: dict[str, str] = {
    "state-not-persisted": "State/Update Result live only in RAM: Idle/0 after any boot, so results 1/8 are never reported",
    "success-before-confirm": "reports Update Result 1 before confirming the image: a cut in between reverts yet says success",
    "no-revert": "requests a permanent swap instead of a test swap: an image that crashes or never confirms is never reverted",
    "swap-not-resumable": "the bootloader restarts an interrupted swap from scratch instead of resuming it: "
                          "a cut mid-swap corrupts the slots",
    "magic-before-data": "writes the secondary's trailer magic (pending) before the image data: a cut mid-download boots a partial image",
    "integrity-skipped": "does not check the downloaded image's hash: a corrupt package reaches Downloaded instead of result 5",
    "wrong-result-on-failed-download": "reports Update Result 8 (update failed) instead of 4 (connection lost) when a download fails",
    "resume-from-zero-keeping-bytes": "restarts a resumed pull from block 0 but appends after the bytes already stored: a corrupt image",
    "execute-outside-downloaded": "accepts Execute Update in any state instead of answering 4.05 outside Downloaded",
    "version-not-updated": "3/0/3 keeps reporting the first version the device ever ran, not the running image's",
    "stuck-downloading-after-cut": "after a power cut during a download it stays in Downloading forever (no resume, no Idle)",
    "defer-forgotten-after-cut": "after a power cut while an update is deferred (Downloaded / 11) it boots Idle and never updates",
    "lsct-not-updated": "Last State Change Time (/5/0/12) is stamped at boot and never again: it does not move with State",
}

# Image behaviours, recognised by a marker anywhere in the image payload (so any
# image tool can make them: append the marker to the application binary).
IMAGE_MARKERS: dict[str, bytes] = {
    "crash": b"RIG-SIM-IMAGE:crash-on-boot",
    "never-confirm": b"RIG-SIM-IMAGE:never-confirm",
}
IMAGE_BEHAVIOURS: dict[str, str] = {
    "crash": "boots, then faults before confirming (a watchdog reset follows): the bootloader must revert it",
    "never-confirm": "boots and runs but never confirms itself: the next reset must revert it",
}


def validate(names: list[str]) -> list[str]:
    """The names, checked: an unknown one is a RigError listing the known ones."""
    for name in names:
        if name not in DEFECTS:
            raise RigError(f"unknown defect {name!r}; known: {', '.join(DEFECTS)}")
    return list(dict.fromkeys(names))


def describe() -> list[str]:
    """One line per defect (and per image behaviour), for `rig sim --list-defects`."""
    width = max(len(n) for n in DEFECTS)
    lines = [f"{name:<{width}}  {text}" for name, text in DEFECTS.items()]
    lines.append("")
    lines.append("image behaviours (append the marker to an image's payload):")
    for name, text in IMAGE_BEHAVIOURS.items():
        lines.append(f"  {IMAGE_MARKERS[name].decode()}  {text}")
    return lines
