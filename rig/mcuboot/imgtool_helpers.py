"""Make real MCUboot images with imgtool (a subprocess of this Python), for tests and the sweep.

Using imgtool itself, not a re-implementation, means the decoder and the
bootloader are checked against the bytes the firmware world actually produces.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from rig.errors import RigError
from rig.flash_layout import FlashLayout

IMGTOOL = [sys.executable, "-m", "imgtool.main"]


def run_imgtool(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run imgtool; on failure raise RigError with its output (unless check=False)."""
    proc = subprocess.run([*IMGTOOL, *args], capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise RigError(f"imgtool {args[0]} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()}")
    return proc


def keygen(path: Path, key_type: str = "ecdsa-p256") -> Path:
    """A fresh private key (PEM) at path; TEST keys only, generated per run, never committed."""
    run_imgtool("keygen", "-k", str(path), "-t", key_type)
    return path


def make_payload(size: int, seed: int) -> bytes:
    """Deterministic incompressible bytes standing in for firmware."""
    return random.Random(seed).randbytes(size)


def sign_image(out: Path, layout: FlashLayout, version: str, payload: bytes, key: Path | None = None,
               pad: bool = False, confirm: bool = False, slot: str = "secondary") -> Path:
    """imgtool sign with the target's header size, alignment and slot size.

    pad=True adds the trailer magic (a "pending" image for the secondary slot);
    confirm=True also sets image_ok (a confirmed image).
    """
    raw = out.with_suffix(".raw")
    raw.write_bytes(payload)
    args = ["sign", "--pad-header", "-H", str(layout.header_size), "-S", str(layout.partition(slot).size),
            "--align", str(layout.write_size), "--max-align", str(layout.max_align),
            "-M", str(layout.max_sectors), "-v", version]
    if layout.erased_value != 0xFF:
        args += ["-R", "0"]
    if key is not None:
        args += ["-k", str(key)]
    if confirm:
        args.append("--confirm")
    elif pad:
        args.append("--pad")
    run_imgtool(*args, str(raw), str(out))
    raw.unlink()
    return out
