"""The vendor's packaging tool for the virtual board's VPK1 packages (rig.sim.app.vendor_package).

What a device maker ships beside its client: it turns an application binary and a
version into a package the device takes, prints a package's version, extracts the
image a factory programs into the primary slot, and makes the broken packages a
test needs. targets/host_sim_vendor.toml names it as its `[package]` commands, so
the rig drives it as it would any vendor's tool; it never imports the rig's
package or image code (it builds the inner MCUboot image with imgtool itself).

    python -m rig.sim.vendor_pack make    --target T --version 1.1 --payload app.bin -o app.vpk
    python -m rig.sim.vendor_pack bad KIND --target T --version 1.1 --payload app.bin -o bad.vpk
    python -m rig.sim.vendor_pack version app.vpk
    python -m rig.sim.vendor_pack flash   app.vpk -o app.signed.bin

KIND: corrupt (a payload byte flipped after the CRC), truncated, wrong-type (the bare
image, no VPK1 header), crash-on-boot and never-confirm (images that must be reverted).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import tomllib
from pathlib import Path

from rig.sim.app import vendor_package as vpk
from rig.sim.defects import IMAGE_MARKERS

KINDS = ("corrupt", "truncated", "wrong-type", "crash-on-boot", "never-confirm")


class PackError(Exception):
    """A one-line reason the tool cannot do what it was asked."""


def signed_image(target: Path, version: str, payload: bytes) -> bytes:
    """The MCUboot image of `payload` for the target's slots (unpadded, unsigned: a SHA256 TLV), made by imgtool."""
    from imgtool.main import imgtool  # noqa: PLC0415 -- start-up cost: imgtool loads click and cryptography

    try:
        data = tomllib.loads(target.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PackError(f"target file {target}: {exc}") from None
    flash, mcuboot = data.get("flash", {}), data.get("mcuboot", {})
    header = int(mcuboot.get("header_size", 0x200))
    write = int(flash.get("write_size", 8))
    sector = int(flash.get("sector_size", 4096))
    slot = int(flash.get("partitions", {}).get("secondary", [0, 0])[1])
    # A slot size that holds any payload: the device, not the tool, decides what is too large.
    room = max(slot, -(-(len(payload) + header + 4 * sector) // sector) * sector)
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "app.bin", Path(tmp) / "app.signed.bin"
        raw.write_bytes(payload)
        args = ["sign", "--pad-header", "-H", str(header), "-S", str(2 * room), "--align", str(write),
                "--max-align", str(int(mcuboot.get("max_align", max(8, write)))), "-v", version, str(raw), str(out)]
        if int(flash.get("erased_value", 0xFF)) != 0xFF:
            args[1:1] = ["-R", "0"]
        said = io.StringIO()
        try:
            with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
                imgtool.main(args, standalone_mode=False)
        except Exception as exc:  # click and imgtool raise their own errors; one line is what a user needs
            raise PackError(f"imgtool sign: {exc or said.getvalue().strip()}") from None
        return out.read_bytes()


def package(image: bytes, version: str) -> bytes:
    try:
        return vpk.build_header(image, version) + image
    except ValueError as exc:
        raise PackError(str(exc)) from None


def make(target: Path, version: str, payload: bytes) -> bytes:
    return package(signed_image(target, version, payload), version)


def bad(kind: str, target: Path, version: str, payload: bytes) -> bytes:
    if kind in ("crash-on-boot", "never-confirm"):
        marker = IMAGE_MARKERS["crash" if kind == "crash-on-boot" else "never-confirm"]
        return make(target, version, payload + marker)
    good = make(target, version, payload)
    if kind == "corrupt":
        at = vpk.HEADER_SIZE + (len(good) - vpk.HEADER_SIZE) // 2
        return good[:at] + bytes([good[at] ^ 0xFF]) + good[at + 1:]
    if kind == "truncated":
        return good[: vpk.HEADER_SIZE + (len(good) - vpk.HEADER_SIZE) // 2]
    if kind == "wrong-type":
        return good[vpk.HEADER_SIZE:]
    raise PackError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")


def read_package(path: Path) -> tuple[vpk.VendorHeader, bytes]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PackError(f"{path}: {exc.strerror}") from None
    try:
        return vpk.parse_header(raw), raw[vpk.HEADER_SIZE:]
    except vpk.PackageError as exc:
        raise PackError(f"{path}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rig.sim.vendor_pack", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    for verb in ("make", "bad"):
        p = sub.add_parser(verb)
        if verb == "bad":
            p.add_argument("kind", choices=KINDS)
        p.add_argument("--target", type=Path, required=True, help="the board's target file (slot layout)")
        p.add_argument("--version", required=True)
        p.add_argument("--payload", type=Path, required=True, help="the application binary")
        p.add_argument("-o", "--output", type=Path, required=True)
    sub.add_parser("version").add_argument("package", type=Path)
    p = sub.add_parser("flash")
    p.add_argument("package", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.verb == "version":
            print(read_package(args.package)[0].version)
            return 0
        if args.verb == "flash":
            header, payload = read_package(args.package)
            vpk.check_payload(header, payload)
            args.output.write_bytes(payload)
            return 0
        payload = args.payload.read_bytes()
        data = make(args.target, args.version, payload) if args.verb == "make" else \
            bad(args.kind, args.target, args.version, payload)
        args.output.write_bytes(data)
        return 0
    except (PackError, vpk.PackageError, OSError) as exc:
        print(f"vendor_pack: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
