"""LwM2M paths as tuples of ids, because tuples hash, compare and sort the way paths should."""

from __future__ import annotations

from rig.lwm2m.codecs.errors import CodecError

Path = tuple[int, ...]
"""(object, instance, resource, resource-instance), any prefix of it; () is the root."""

MAX_ID = 65535
_MAX_DEPTH = 4


def parse_path(text: str) -> Path:
    """Parse "/5/0/3" into (5, 0, 3); "/" and "" give the root ().

    Strict on purpose: paths come from the rig's own callers and from SenML
    names sent by clients, and a lenient parse would file values under the
    wrong resource.
    """
    if not isinstance(text, str):
        raise CodecError(f"path {text!r}: expected a string")
    body = text[1:] if text.startswith("/") else text
    if body.endswith("/"):
        body = body[:-1]
    if body == "":
        return ()
    parts = body.split("/")
    if len(parts) > _MAX_DEPTH:
        raise CodecError(f"path {text!r}: more than {_MAX_DEPTH} levels")
    ids = []
    for part in parts:
        if not part.isascii() or not part.isdigit():
            raise CodecError(f"path {text!r}: {part!r} is not a decimal id")
        value = int(part)
        if value > MAX_ID:
            raise CodecError(f"path {text!r}: id {value} exceeds {MAX_ID}")
        ids.append(value)
    return tuple(ids)


def format_path(path: Path) -> str:
    """(5, 0, 3) -> "/5/0/3"; () -> "/"."""
    check_path(path)
    return "/" + "/".join(str(i) for i in path)


def check_path(path: Path) -> None:
    """Reject tuples that are not LwM2M paths (too deep, negative or oversized ids)."""
    if not isinstance(path, tuple) or len(path) > _MAX_DEPTH:
        raise CodecError(f"path {path!r}: expected a tuple of at most {_MAX_DEPTH} ids")
    for i in path:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i <= MAX_ID:
            raise CodecError(f"path {path!r}: id {i!r} is not in 0..{MAX_ID}")


def is_under(path: Path, base: Path) -> bool:
    """True when `path` is `base` or lies below it."""
    return path[: len(base)] == base
