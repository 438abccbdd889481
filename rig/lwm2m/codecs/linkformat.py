"""CoRE link format (content format 40, RFC 6690) as LwM2M clients actually send it.

Registration bodies vary: quoted and unquoted values (`ver=1.1`, `ver="1.1"`),
an alternate root `</>;rt="oma.lwm2m";ct=110` (or without rt), spaces and
newlines between links, a trailing space (Wakaama's tests send one). The parser
accepts all of that and refuses only what cannot be read, naming the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from rig.lwm2m.codecs.errors import CodecError
from rig.lwm2m.paths import MAX_ID

_TOKEN_END = ";,"
_PARAM_NAME_RE = re.compile(r"^[A-Za-z0-9!#$&+\-.^_`|~*]+$")
_BARE_VALUE_RE = re.compile(r"^[A-Za-z0-9!#$&+\-.^_`|~:/%]+$")
_VERSION_RE = re.compile(r"^[0-9]{1,3}\.[0-9]{1,3}$")
_WS = " \t\r\n"


@dataclass(frozen=True)
class Link:
    """One link: target URI reference and its parameters in order (value None for a bare flag like `obs`)."""

    target: str
    params: tuple[tuple[str, str | None], ...] = ()

    def get(self, name: str) -> str | None:
        """First value of parameter `name` (None when absent or valueless)."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.params)


@dataclass
class ObjectInfo:
    """What a registration says about one object: its version (None = not stated) and instances."""

    version: str | None = None
    instances: set[int] = field(default_factory=set)


@dataclass
class RegisteredObjects:
    """The parsed registration body: objects, alternate root path, and content formats from the root link."""

    objects: dict[int, ObjectInfo] = field(default_factory=dict)
    root_path: str = "/"
    content_formats: set[int] = field(default_factory=set)


def parse_links(body: bytes | str) -> list[Link]:
    """Parse link-format text into Links; an empty body is an empty list."""
    if isinstance(body, (bytes, bytearray)):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CodecError(f"link format is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    else:
        text = body
    links: list[Link] = []
    pos = _skip_ws(text, 0)
    while pos < len(text):
        if text[pos] != "<":
            raise CodecError(f"link format at char {pos}: expected '<', found {text[pos:pos + 20]!r}")
        end = text.find(">", pos + 1)
        if end < 0:
            raise CodecError(f"link format at char {pos}: '<' without '>' in {text[pos:pos + 30]!r}")
        target = text[pos + 1 : end]
        if any(ch in target for ch in "<\"" + _WS):
            raise CodecError(f"link format at char {pos}: bad target {target!r:.40}")
        pos = _skip_ws(text, end + 1)
        params: list[tuple[str, str | None]] = []
        while pos < len(text) and text[pos] == ";":
            name, value, pos = _parse_param(text, _skip_ws(text, pos + 1))
            params.append((name, value))
            pos = _skip_ws(text, pos)
        links.append(Link(target, tuple(params)))
        if pos < len(text):
            if text[pos] != ",":
                raise CodecError(f"link format at char {pos}: expected ',' or ';', found {text[pos:pos + 20]!r}")
            pos = _skip_ws(text, pos + 1)
    return links


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _parse_param(text: str, pos: int) -> tuple[str, str | None, int]:
    start = pos
    while pos < len(text) and text[pos] not in _TOKEN_END + "=" + _WS:
        pos += 1
    name = text[start:pos]
    if not _PARAM_NAME_RE.match(name):
        raise CodecError(f"link format at char {start}: bad parameter name {name!r:.40}")
    pos = _skip_ws(text, pos)
    if pos >= len(text) or text[pos] != "=":
        return name, None, pos
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == '"':
        chars: list[str] = []
        pos += 1
        while pos < len(text) and text[pos] != '"':
            if text[pos] == "\\" and pos + 1 < len(text):
                pos += 1
            chars.append(text[pos])
            pos += 1
        if pos >= len(text):
            raise CodecError(f"link format at char {start}: unterminated quoted value of {name!r}")
        return name, "".join(chars), pos + 1
    vstart = pos
    while pos < len(text) and text[pos] not in _TOKEN_END and text[pos] not in _WS:
        pos += 1
    return name, text[vstart:pos], pos


def format_links(links: Iterable[Link]) -> bytes:
    """Serialise Links (Discover answers, test clients); numbers and tokens stay unquoted."""
    parts = []
    for link in links:
        if any(ch in link.target for ch in "<>\"," + _WS):
            raise CodecError(f"link target {link.target!r} cannot be written in link format")
        text = f"<{link.target}>"
        for name, value in link.params:
            if not _PARAM_NAME_RE.match(name):
                raise CodecError(f"link parameter name {name!r} cannot be written in link format")
            if value is None:
                text += f";{name}"
            elif _BARE_VALUE_RE.match(value):
                text += f";{name}={value}"
            else:
                escaped = value.replace("\\", "\\\\").replace('"', '\\"')
                text += f';{name}="{escaped}"'
        parts.append(text)
    return ",".join(parts).encode("utf-8")


def _ids(target: str, root: str) -> tuple[int, ...] | None:
    """Object/instance ids of a target below `root`; None for the root link itself."""
    rel = target
    if root != "/":
        if not (target == root or target.startswith(root.rstrip("/") + "/")):
            raise CodecError(f"registration link <{target}> is not under the alternate root {root!r}")
        rel = target[len(root.rstrip("/")) :]
    rel = rel.strip("/")
    if rel == "":
        return None
    ids = []
    for part in rel.split("/"):
        if not part.isascii() or not part.isdigit() or int(part) > MAX_ID:
            raise CodecError(f"registration link <{target}>: {part!r} is not an object or instance id")
        ids.append(int(part))
    if len(ids) > 2:
        raise CodecError(f"registration link <{target}>: only objects and object instances may be registered")
    return tuple(ids)


def parse_registration_links(body: bytes | str) -> RegisteredObjects:
    """Read a Register/Update body into objects, versions, instances, root path and content formats.

    The root link is the one with rt="oma.lwm2m" (its target is the alternate
    path), or a bare `</>` carrying ct without rt, as Wakaama's tests send.
    """
    links = parse_links(body)
    result = RegisteredObjects()
    for link in links:
        if "oma.lwm2m" in (link.get("rt") or "").split():
            result.root_path = link.target if link.target.startswith("/") else "/" + link.target
    for link in links:
        ids = _ids(link.target, result.root_path)
        if ids is None:
            ct = link.get("ct")
            if ct is not None:
                for word in ct.split():
                    if not word.isascii() or not word.isdigit() or int(word) > 65535:
                        raise CodecError(f"registration root link: ct {ct!r} is not a list of content formats")
                    result.content_formats.add(int(word))
            continue
        info = result.objects.setdefault(ids[0], ObjectInfo())
        version = link.get("ver")
        if version is not None:
            if not _VERSION_RE.match(version):
                raise CodecError(f"registration link <{link.target}>: ver={version!r} is not 'major.minor'")
            info.version = version
        if len(ids) == 2:
            info.instances.add(ids[1])
    return result
