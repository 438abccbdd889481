"""A place's DTLS pre-shared key: from the rig file, a target's [security] table, `--psk`, or made per run.

A board on the bench has its key in the rig file (places.NAME.lwm2m). A place made
from a target file alone (`--target`) has no rig file, so the key comes from
`--psk IDENTITY:HEXKEY` or the target's table:

    [security]
    psk_identity = "my-client"     # default: the endpoint name
    psk_key_file = "client.key"    # hex or raw bytes, relative to the target file; or psk_key_env = "VAR"
    per_run_key = true             # a test client that takes its key on its command line: with no key given,
                                   # the rig makes a fresh one for each run ({psk_key_hex}, {psk_key_file})

A key is never written into a file the rig commits or reports; {psk_key_file}
is written 0600 into the place's working directory when a command asks for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig.errors import RigError

KEY_BYTES = 16  # a per-run key: 128 bits, as the virtual board's
SECURITY_KEYS = ("psk_identity", "psk_key_file", "psk_key_env", "per_run_key")


def read_psk(table: dict[str, Any], where: str, src: str, test: bool, base_dir: Path) -> bytes | None:
    """The PSK from a file or an environment variable (hex, or raw bytes in a file); inline only for test places."""
    given = [k for k in ("psk_key", "psk_key_file", "psk_key_env") if k in table]
    if len(given) > 1:
        raise RigError(f"{src}: {where}: give one of {', '.join(given)}, not several")
    if not given:
        return None
    key = given[0]
    value = table[key]
    if not isinstance(value, str) or not value:
        raise RigError(f"{src}: {where}.{key}: must be a non-empty string, got {value!r}")
    if key == "psk_key":
        if not test:
            raise RigError(
                f"{src}: {where}.psk_key: a key does not belong in the rig file; use psk_key_file or psk_key_env"
                " (or mark the place test = true for a throwaway key)"
            )
        raw = value.encode()
    elif key == "psk_key_env":
        if value not in os.environ:
            raise RigError(f"{src}: {where}.psk_key_env: environment variable {value} is not set")
        raw = os.environ[value].encode()
    else:
        path = Path(os.path.expanduser(value))
        path = path if path.is_absolute() else base_dir / path
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise RigError(f"{src}: {where}.psk_key_file: cannot read {path}: {exc.strerror}") from None
    stripped = raw.strip()
    try:
        return bytes.fromhex(stripped.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        if key == "psk_key_file":
            return raw  # a binary key file
        raise RigError(f"{src}: {where}.{key}: the key must be hex (e.g. 000102...0f)") from None


@dataclass(frozen=True)
class Security:
    """What a target's [security] table says (the key itself read when the place is built)."""

    psk_identity: str | None = None
    psk_key: bytes | None = field(default=None, repr=False)
    per_run_key: bool = False

    @classmethod
    def from_target(cls, data: dict[str, Any], src: str, base_dir: Path, read_key: bool = True) -> "Security":
        table = data.get("security", {})
        if not isinstance(table, dict):
            raise RigError(f"{src}: [security] must be a table ({', '.join(SECURITY_KEYS)})")
        for key in table:
            if key not in SECURITY_KEYS:
                hint = "; a key does not belong in a target file: psk_key_file or psk_key_env" if key == "psk_key" else ""
                raise RigError(f"{src}: security.{key}: unknown key; known: {', '.join(SECURITY_KEYS)}{hint}")
        identity = table.get("psk_identity")
        if identity is not None and (not isinstance(identity, str) or not identity):
            raise RigError(f"{src}: security.psk_identity: must be a non-empty string, got {identity!r}")
        per_run = table.get("per_run_key", False)
        if not isinstance(per_run, bool):
            raise RigError(f"{src}: security.per_run_key: must be true or false, got {per_run!r}")
        key = read_psk(table, "security", src, False, base_dir) if read_key else None
        return cls(identity, key, per_run)


def parse_psk(text: str, what: str = "--psk") -> tuple[str, bytes]:
    """IDENTITY:HEXKEY -> (identity, key); the key is after the last ':' (an identity may hold one)."""
    identity, sep, hexkey = str(text).rpartition(":")
    try:
        key = bytes.fromhex(hexkey)
    except ValueError:
        raise RigError(f"{what} {text!r}: the key after the last ':' is not hex (IDENTITY:HEXKEY)") from None
    if not sep or not identity or not key:
        raise RigError(f"{what} {text!r}: must be IDENTITY:HEXKEY, e.g. my-client:000102030405060708090a0b0c0d0e0f")
    return identity, key


def per_run_key() -> bytes:
    """A fresh key for one run of a test client: made here, never stored outside the run's working directory."""
    return os.urandom(KEY_BYTES)


def write_key_file(directory: Path, key: bytes) -> Path:
    """{psk_key_file}: the raw key bytes, 0600, in the place's working directory."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "psk.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file keeps its mode through O_CREAT: set it
        os.write(fd, key)
    finally:
        os.close(fd)
    return path
