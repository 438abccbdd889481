"""PyocdProbe with pyocd's and pyusb's own objects, and only libusb replaced (the lowest level).

`usb.backend.libusb1.get_backend` returns FakeLibusb, a pyusb IBackend that
enumerates CMSIS-DAP v2 probes (real descriptors, UTF-16 string descriptors,
bulk endpoints) and answers CMSIS-DAP commands on the bulk pipe. Everything
above it is the real thing: pyusb's usb.core.Device, pyocd's PyUSBv2 interface,
DAPAccessCMSISDAP, CMSISDAPProbe, ConnectHelper and Session. The probe has no
target attached (SWD transfers get no ACK), as on a bench whose board is off.
"""

from __future__ import annotations

import struct
from array import array
from types import SimpleNamespace

import pytest
import usb.backend
import usb.backend.libusb1
import usb.core

from rig.probe.base import ProbeError
from rig.probe.pyocd_probe import PyocdProbe

EP_OUT, EP_IN = 0x01, 0x81
STRINGS = {1: "ARM", 2: "DAPLink CMSIS-DAP", 4: "CMSIS-DAP v2"}


class FakeDap:
    """A CMSIS-DAP v2 probe with nothing on its SWD port."""

    def __init__(self, serial: str) -> None:
        self.serial = serial
        self.replies: list[bytes] = []
        self.commands: list[int] = []

    def command(self, packet: bytes) -> bytes:
        cmd = packet[0]
        self.commands.append(cmd)
        if cmd == 0x00:  # DAP_Info
            info = {
                0x01: b"ARM\0", 0x02: b"DAPLink CMSIS-DAP\0", 0x03: self.serial.encode() + b"\0",
                0x04: b"2.1.0\0", 0x09: b"0257\0",
                0xF0: bytes([0x01]),  # capabilities: SWD only
                0xFE: bytes([4]),  # packet count
                0xFF: struct.pack("<H", 64),  # packet size
            }.get(packet[1], b"")
            return bytes([0x00, len(info)]) + info
        if cmd == 0x02:  # DAP_Connect -> SWD
            return bytes([0x02, 0x01])
        if cmd == 0x05:  # DAP_Transfer: no ACK from a powered-off target
            return bytes([0x05, 0x00, 0x07])
        if cmd == 0x06:  # DAP_TransferBlock
            return bytes([0x06, 0x00, 0x00, 0x07])
        if cmd == 0x10:  # DAP_SWJ_Pins
            return bytes([0x10, 0x00])
        if cmd in (0x01, 0x03, 0x04, 0x08, 0x09, 0x0A, 0x11, 0x12, 0x13, 0x1D):
            return bytes([cmd, 0x00])  # DAP_OK
        return bytes([0xFF])  # DAP_Invalid


class FakeLibusb(usb.backend.IBackend):
    """pyusb IBackend over FakeDap devices: the part libusb plays between pyusb and a real USB probe."""

    def __init__(self, probes: list[FakeDap]) -> None:
        self.probes = probes

    def enumerate_devices(self):
        return iter(range(len(self.probes)))

    def get_device_descriptor(self, dev):
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0210, bDeviceClass=0xEF, bDeviceSubClass=2, bDeviceProtocol=1,
            bMaxPacketSize0=64, idVendor=0x0D28, idProduct=0x0204, bcdDevice=0x0100, iManufacturer=1, iProduct=2,
            iSerialNumber=3, bNumConfigurations=1, address=dev + 2, bus=1, port_number=dev + 1,
            port_numbers=(dev + 1,), speed=3,
        )

    def get_configuration_descriptor(self, dev, config):
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=32, bNumInterfaces=1, bConfigurationValue=1,
            iConfiguration=0, bmAttributes=0x80, bMaxPower=50, extra_descriptors=[],
        )

    def get_interface_descriptor(self, dev, intf, alt, config):
        if intf != 0 or alt != 0:
            raise IndexError("no such interface")
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0, bNumEndpoints=2,
            bInterfaceClass=0xFF, bInterfaceSubClass=0, bInterfaceProtocol=0, iInterface=4, extra_descriptors=[],
        )

    def get_endpoint_descriptor(self, dev, ep, intf, alt, config):
        return SimpleNamespace(
            bLength=7, bDescriptorType=5, bEndpointAddress=(EP_OUT, EP_IN)[ep], bmAttributes=0x02,
            wMaxPacketSize=64, bInterval=0, bRefresh=0, bSynchAddress=0, extra_descriptors=[],
        )

    def open_device(self, dev):
        return dev

    def close_device(self, handle):
        pass

    def get_configuration(self, handle):
        return 1

    def set_configuration(self, handle, value):
        pass

    def claim_interface(self, handle, intf):
        pass

    def release_interface(self, handle, intf):
        pass

    def is_kernel_driver_active(self, handle, intf):
        return False

    def clear_halt(self, handle, ep):
        pass

    def ctrl_transfer(self, handle, bmRequestType, bRequest, wValue, wIndex, data, timeout):
        if bRequest != 0x06 or wValue >> 8 != 3:  # only GET_DESCRIPTOR(STRING) is needed
            raise usb.core.USBError("request not supported", errno=32)
        index = wValue & 0xFF
        if index == 0:
            payload = struct.pack("<H", 0x0409)
        else:
            text = self.probes[handle].serial if index == 3 else STRINGS[index]
            payload = text.encode("utf-16-le")
        raw = bytes([2 + len(payload), 3]) + payload
        n = min(len(raw), len(data))
        data[:n] = array("B", raw[:n])
        return n

    def bulk_write(self, handle, ep, intf, data, timeout):
        probe = self.probes[handle]
        if len(data):
            probe.replies.append(probe.command(bytes(data)))
        return len(data)

    def bulk_read(self, handle, ep, intf, buff, timeout):
        probe = self.probes[handle]
        if not probe.replies:
            raise usb.core.USBTimeoutError("timeout", errno=110)
        reply = probe.replies.pop(0)
        buff[: len(reply)] = array("B", reply)
        return len(reply)


def _forget_cached_backend() -> None:
    """libusb_package (which pyocd prefers over plain pyusb) caches the libusb backend it found."""
    try:
        import libusb_package
    except ImportError:
        return
    libusb_package.get_libusb1_backend.cache_clear()


@pytest.fixture
def replace_libusb(monkeypatch):
    def install(probes: list[FakeDap]) -> list[FakeDap]:
        backend = FakeLibusb(probes)
        monkeypatch.setattr(usb.backend.libusb1, "get_backend", lambda *a, **k: backend)
        _forget_cached_backend()
        return probes

    yield install
    monkeypatch.undo()
    _forget_cached_backend()


@pytest.fixture
def usb_bus(replace_libusb):
    return replace_libusb(
        [FakeDap("0240000032044e4500256019997b00268781000097969900"), FakeDap("0240000032044e45002560199999999999")]
    )


def test_probe_pyocd_usb_replaced_lists_and_requires_exact_id(usb_bus):
    probe = PyocdProbe("0240000032044e45", "k64f", name="k64f-1")  # a prefix of both: pyocd would match it
    with pytest.raises(ProbeError) as info:
        probe.session()
    message = str(info.value)
    assert message.startswith("no probe with id 0240000032044e45 for place k64f-1; connected: ")
    assert "0240000032044e4500256019997b00268781000097969900 (DAPLink CMSIS-DAP)" in message
    assert "0240000032044e45002560199999999999 (DAPLink CMSIS-DAP)" in message


def test_probe_pyocd_usb_replaced_unpowered_target_is_a_clear_error(usb_bus, tmp_path):
    probe = PyocdProbe("0240000032044e45002560199999999999", "k64f", name="k64f-1", frequency=1_000_000)
    with pytest.raises(ProbeError, match=r"probe 0240000032044e45002560199999999999: cannot attach to a k64f target: .*board powered\?"):
        probe.read(0x0, 16, tmp_path / "out.bin")
    chosen = usb_bus[1]
    assert 0x00 in chosen.commands and 0x02 in chosen.commands, "pyocd opened the probe: DAP_Info, DAP_Connect"
    assert {0x05, 0x06} & set(chosen.commands), "and tried SWD transfers, which got no ACK"
    assert usb_bus[0].commands == [], "the other probe was never opened"
    assert not (tmp_path / "out.bin").exists()
    probe.close()


def test_probe_pyocd_usb_replaced_no_probes(replace_libusb, monkeypatch, tmp_path):
    replace_libusb([])
    monkeypatch.setenv("RIG_SIM_REGISTRY", str(tmp_path / "no-virtual-boards"))  # the rigsim plugin lists none
    with pytest.raises(ProbeError, match="no probe with id abc for place p; connected: none"):
        PyocdProbe("abc", "stm32f767zi", name="p").session()


def test_probe_pyocd_missing_pack_is_named(tmp_path):
    probe = PyocdProbe("abc", "nrf9160", pack=tmp_path / "NordicSemiconductor.nRF_DeviceFamilyPack.pack")
    assert probe.pack_path == tmp_path / "NordicSemiconductor.nRF_DeviceFamilyPack.pack"
    with pytest.raises(ProbeError, match="CMSIS pack .*nRF_DeviceFamilyPack.pack for target nrf9160 not found"):
        probe.session_options()
