"""Object 5 (Firmware Update, v1.1) of the virtual board: the state machine, its persistence, its downloads.

State and Update Result are written to the settings partition at every change, and
the download position after every block, so a cut leaves the device able to say
what happened (docs/object5.md "Power loss"). An Execute the board's user defers
(rig.sim.app.deferral) leaves it Downloaded / 11 until the Maximum Defer Period is over.
Field defects (rig.sim.defects) bend exactly the rule they are named after.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from rig.sim.app import image
from rig.sim.app.deferral import Deferral, check_period, check_severity
from rig.sim.app.package_sink import make_sink
from rig.sim.app.slot_writer import SlotFull, SlotWriter

IDLE, DOWNLOADING, DOWNLOADED, UPDATING = 0, 1, 2, 3
R_INITIAL, R_SUCCESS, R_NO_FLASH, R_CONN_LOST, R_INTEGRITY, R_UNSUPPORTED_TYPE = 0, 1, 2, 4, 5, 6
R_INVALID_URI, R_FAILED, R_UNSUPPORTED_PROTOCOL, R_CANCELLED, R_DEFERRED = 7, 8, 9, 10, 11

# Object 5 resource 8 (Firmware Update Protocol Support) numbers; other schemes are invalid URIs
PROTOCOL_IDS = {"coap": 0, "coaps": 1, "http": 2, "https": 3, "coap+tcp": 4, "coaps+tcp": 5}
KNOWN_SCHEMES = tuple(PROTOCOL_IDS)
DEFAULTS: dict[str, Any] = {
    "state": IDLE, "result": R_INITIAL, "uri": "", "etag": None, "received": 0, "mode": None,
    "pending_hash": None, "pending_version": None, "severity": 1, "defer": 0, "lsct": 0,
    "first_version": None, "pkg_header": None,
}  # a deferral adds "deferred_at" (wall-clock seconds) while it lasts


class FetchError(Exception):
    """A pull download failed; `result` is the Update Result it maps to."""

    def __init__(self, result: int, reason: str) -> None:
        super().__init__(reason)
        self.result = result


@dataclass
class BlockReply:
    payload: bytes
    more: bool
    etag: bytes | None


Fetcher = Callable[[str, int, int], Awaitable[BlockReply]]  # (uri, block number, size exponent)


class Refused(Exception):
    """The request is refused with a CoAP code (e.g. "4.05"); state is unchanged."""

    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(reason or code)
        self.code = code


@dataclass(frozen=True)
class Profile:
    """The target file's [lwm2m] choices where the spec leaves room."""

    failure_returns_to: str = "idle"
    reset_in_downloading: str = "honoured"
    resumes_download: bool = True
    invalid_uri: str = "direct"
    keeps_real_time: bool = False
    block_size: int = 512

    @classmethod
    def from_target(cls, data: dict[str, Any], block_size: int) -> "Profile":
        lw = data.get("lwm2m", {})
        return cls(
            failure_returns_to=str(lw.get("failure_returns_to", "idle")),
            reset_in_downloading=str(lw.get("reset_in_downloading", "honoured")),
            resumes_download=bool(lw.get("resumes_download", True)),
            invalid_uri=str(lw.get("invalid_uri", "direct")),
            keeps_real_time=bool(lw.get("keeps_real_time", False)),
            block_size=block_size,
        )


class FirmwareUpdate:
    def __init__(self, flash: Any, layout: Any, store: Any, profile: Profile, defects: set[str],
                 running: image.RunningImage, log: Callable[[str], None], package_mode: str = "mcuboot") -> None:
        self.flash, self.layout, self.store = flash, layout, store
        self.profile, self.defects, self.running, self.log = profile, defects, running, log
        persisted = {} if "state-not-persisted" in defects else dict(store.values)
        self.v: dict[str, Any] = {**DEFAULTS, **persisted}
        writer = SlotWriter(flash, layout, trailer_size=image.trailer_size(layout, "secondary"))
        self.sink = make_sink(package_mode, flash, layout, writer, self.v)  # "mcuboot" or "vendor" packages
        self.package_mode = package_mode
        self.fetcher: Fetcher | None = None
        self.pull_schemes: frozenset[str] = frozenset({"coap"})  # the client adds coaps when the board has a PSK
        self.listeners: list[Callable[[], None]] = []
        self.reboot: Callable[[], None] = lambda: None
        self._task: asyncio.Task[None] | None = None
        self.confirm_later = False
        self.deferral = Deferral()  # the client sets the board's policy

    # --- state -------------------------------------------------------------

    @property
    def state(self) -> int:
        return int(self.v["state"])

    @property
    def result(self) -> int:
        return int(self.v["result"])

    def _set(self, state: int | None = None, result: int | None = None, **extra: Any) -> None:
        if state is not None and state != self.state:
            if "lsct-not-updated" not in self.defects:  # "updates this resource before making any change to the State"
                self.v["lsct"] = max(int(time.time()), int(self.v["lsct"]))
            self.log(f"[fw] state {self.state} -> {state}")
            self.v["state"] = state
            self.v.pop("deferred_at", None)  # a deferral lasts while the package waits in Downloaded
            self.deferral.disarm()
        if result is not None and result != self.result:
            self.log(f"[fw] result {self.result} -> {result}")
            self.v["result"] = result
        self.v.update(extra)
        self._persist()
        for listener in list(self.listeners):
            listener()

    def _persist(self) -> None:
        if "state-not-persisted" not in self.defects:
            self.store.save(self.v)

    def protocol_support(self) -> dict[int, int]:
        """/5/0/8 as instances: the protocols a pull can use on this board (coaps only with a PSK)."""
        return dict(enumerate(sorted(PROTOCOL_IDS[s] for s in self.pull_schemes)))

    def firmware_version(self) -> str:
        if self.v["first_version"] is None:
            self.v["first_version"] = self.running.version
            self._persist()
        if "version-not-updated" in self.defects:
            return str(self.v["first_version"])
        return self.running.version

    # --- boot ----------------------------------------------------------------

    def boot(self) -> bool:
        """Reconcile persisted state with the image that booted; True when a pull should resume."""
        self.firmware_version()
        if "lsct-not-updated" in self.defects:
            self.v["lsct"] = int(time.time())  # stamped once at boot, never again
            self._persist()
        behaviours = self.running.behaviours
        if self.state == UPDATING:
            if self.running.hash is not None and self.running.hash == self.v["pending_hash"]:
                if "never-confirm" in behaviours:
                    self.log("[fw] new image runs; it never confirms itself")
                elif "success-before-confirm" in self.defects:
                    self._set(IDLE, R_SUCCESS)
                    self.confirm_later = True
                else:
                    image.confirm(self.flash, self.layout, self.log)
                    self._set(IDLE, R_SUCCESS)
            else:
                self.log(f"[fw] update failed: running {self.running.version}, expected {self.v['pending_version']}")
                back = DOWNLOADED if self.profile.failure_returns_to == "downloaded" else IDLE
                self._set(back, R_FAILED)
        elif self.state == DOWNLOADING:
            if "stuck-downloading-after-cut" in self.defects:
                self.log("[fw] download was interrupted; staying in Downloading")
            elif self.v["mode"] == "pull" and self.profile.resumes_download and self.v["uri"]:
                self.log(f"[fw] resuming download of {self.v['uri']} at byte {self.v['received']}")
                return True
            else:
                self._set(IDLE)
        elif self.state == DOWNLOADED and self.result == R_DEFERRED:
            if "defer-forgotten-after-cut" in self.defects:
                self.log("[fw] deferred update forgotten at boot")
                self._set(IDLE, R_INITIAL, uri="", etag=None, received=0, mode=None)
            else:
                self._defer_until_due()
        if not self.running.confirmed and not behaviours and not self.confirm_later and "no-revert" not in self.defects:
            if self.state != UPDATING:
                image.confirm(self.flash, self.layout, self.log)
        return False

    def confirm_now(self) -> None:
        """The success-before-confirm defect confirms only after it has reported 1."""
        if self.confirm_later:
            self.confirm_later = False
            image.confirm(self.flash, self.layout, self.log)

    # --- push (Block1 writes to /5/0/0) --------------------------------------

    def push_block(self, num: int, size: int, more: bool, payload: bytes) -> str:
        """One Block1 block; returns "2.31" (continue) or "2.04"; raises Refused."""
        if num == 0:
            if not more and payload == b"\x00":
                self.reset()
                return "2.04"
            if self.state in (DOWNLOADED, UPDATING) or (self.state == DOWNLOADING and self.v["mode"] != "push"):
                raise Refused("4.00", f"package write in state {self.state}")
            self._cancel_task()
            self._set(DOWNLOADING, R_INITIAL, mode="push", uri="", etag=None, received=0)
            self._begin(0)
        elif self.state != DOWNLOADING or self.v["mode"] != "push" or num * size != self.v["received"]:
            raise Refused("4.08", f"block {num} out of sequence (have {self.v['received']} bytes)")
        try:
            self.sink.write(num * size, payload)
        except SlotFull:
            self._set(IDLE, R_NO_FLASH)
            raise Refused("4.13", "package too large for the slot") from None
        self.v["received"] = num * size + len(payload)
        self._persist()
        if more:
            return "2.31"
        self._downloaded()
        return "2.04"

    def _begin(self, at: int) -> None:
        self.sink.begin(at)
        if at == 0 and "magic-before-data" in self.defects:
            image.mark_pending(self.flash, self.layout, permanent=False, log=self.log)

    # --- pull (Package URI) ----------------------------------------------------

    def write_uri(self, uri: str) -> None:
        if uri == "":
            self.reset()
            return
        if self.state != IDLE:
            raise Refused("4.00", f"Package URI written in state {self.state}")
        parts = urlsplit(uri)
        if parts.scheme in KNOWN_SCHEMES and parts.scheme not in self.pull_schemes:
            self.log(f"[fw] unsupported protocol {parts.scheme!r}")
            self._set(IDLE, R_UNSUPPORTED_PROTOCOL)
            return
        try:
            valid = parts.scheme in self.pull_schemes and bool(parts.hostname) and parts.port != 0
        except ValueError:
            valid = False
        if not valid:
            if self.profile.invalid_uri == "via-downloading":
                self._set(DOWNLOADING, R_INITIAL)
            self._set(IDLE, R_INVALID_URI)
            return
        self._set(DOWNLOADING, R_INITIAL, mode="pull", uri=uri, etag=None, received=0)
        self.start_pull(resume=False)

    def start_pull(self, resume: bool) -> None:
        self._cancel_task()
        self._task = asyncio.get_running_loop().create_task(self._pull(resume))

    def _cancel_task(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def _pull(self, resume: bool) -> None:
        assert self.fetcher is not None
        size = self.profile.block_size
        szx = size.bit_length() - 5
        uri = str(self.v["uri"])
        start = self.sink.resume_at(int(self.v["received"])) if resume else 0  # a package offset
        first, skip = divmod(start, size)
        base = first * size  # package offset of block `first`
        if resume and "resume-from-zero-keeping-bytes" in self.defects:
            first, base, skip = 0, int(self.v["received"]), 0
            self.sink.keep_position(base)
        else:
            self._begin(start)
        etag = self.v["etag"] if resume else None
        num = first
        try:
            while True:
                reply = await self.fetcher(uri, num, szx)
                reply_etag = reply.etag.hex() if reply.etag is not None else None
                if num == first and base and (etag is None or reply_etag != etag):
                    self.log("[fw] package changed on the server (ETag): restarting from block 0")
                    first = base = num = skip = 0
                    self._begin(0)
                    continue
                if etag is None:
                    etag = reply_etag
                    self.v["etag"] = etag
                offset, payload = base + (num - first) * size, reply.payload
                if num == first and skip:  # a resume inside this block: its first bytes are stored already
                    offset, payload = offset + skip, payload[skip:]
                self.sink.write(offset, payload)
                self.v["received"] = offset + len(payload)
                self._persist()
                if not reply.more:
                    break
                num += 1
        except FetchError as exc:
            self.log(f"[fw] download failed: {exc}")
            result = exc.result
            if result == R_CONN_LOST and "wrong-result-on-failed-download" in self.defects:
                result = R_FAILED
            self._set(IDLE, result)
            return
        except SlotFull:
            self._set(IDLE, R_NO_FLASH)
            return
        self._downloaded()

    # --- common ends ---------------------------------------------------------

    def _downloaded(self) -> None:
        stored = self.sink.finish(skip_checks="integrity-skipped" in self.defects)
        if stored.result is not None:
            self.log(f"[fw] {stored.length} bytes refused: {stored.reason} (result {stored.result})")
            self._set(IDLE, stored.result)
            return
        self.log(f"[fw] downloaded {stored.length} bytes, package {stored.version or '?'}")
        self._set(DOWNLOADED, R_INITIAL, pending_hash=stored.hash, pending_version=stored.version)

    def reset(self) -> None:
        if self.state == DOWNLOADING and self.profile.reset_in_downloading == "ignored":
            self.log("[fw] reset ignored while downloading")
            return
        if self.state == UPDATING:
            raise Refused("4.00", "reset while updating")
        self._cancel_task()
        self._set(IDLE, R_INITIAL, uri="", etag=None, received=0, mode=None)

    def cancel(self) -> None:
        if self.state not in (DOWNLOADING, DOWNLOADED):
            raise Refused("4.05", f"Cancel in state {self.state}")
        self._cancel_task()
        self._set(IDLE, R_CANCELLED, uri="", etag=None, received=0, mode=None)

    def execute(self) -> None:
        """Execute Update: deferred by the user (Downloaded / 11), or install now."""
        if self.state != DOWNLOADED and "execute-outside-downloaded" not in self.defects:
            raise Refused("4.05", f"Update in state {self.state}")
        if self.state == DOWNLOADED and self.deferral.wants(int(self.v["severity"]), int(self.v["defer"])):
            at = self.v.get("deferred_at") or time.time()
            if self.deferral.remaining(at, int(self.v["defer"])) > 0:
                self._set(result=R_DEFERRED, deferred_at=at)
                self._defer_until_due()
                return
        self.install()

    def _defer_until_due(self) -> None:
        left = self.deferral.remaining(float(self.v.get("deferred_at") or 0), int(self.v["defer"]))
        self.log(f"[fw] update deferred by the user: installs by itself in {left:.0f} s")
        self.deferral.arm(left, self._deferral_over)

    def _deferral_over(self) -> None:
        if self.state == DOWNLOADED and self.result == R_DEFERRED:
            self.log("[fw] Maximum Defer Period over: installing")
            self.install()

    def set_severity(self, value: int) -> None:
        try:
            self.v["severity"] = check_severity(value)
        except ValueError as exc:
            raise Refused("4.00", str(exc)) from None
        self._persist()
        if value == 0 and self.state == DOWNLOADED and self.result == R_DEFERRED:
            self.log("[fw] Severity raised to critical: installing the deferred update now")
            self.install()

    def set_max_defer_period(self, value: int) -> None:
        try:
            self.v["defer"] = check_period(value)
        except ValueError as exc:
            raise Refused("4.00", str(exc)) from None
        self._persist()
        if self.state == DOWNLOADED and self.result == R_DEFERRED:
            self._defer_until_due()  # a shorter period may be over already (0: at once)

    def install(self) -> None:
        """Mark the image pending and reboot into the bootloader."""
        self._set(UPDATING, R_INITIAL)
        if "magic-before-data" not in self.defects or self.v["mode"] is None:
            image.mark_pending(self.flash, self.layout, permanent="no-revert" in self.defects, log=self.log)
        self.log("[fw] rebooting to install")
        self.reboot()
