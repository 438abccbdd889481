"""Serving cost: one 1 MiB file fetched block-wise by coap-client-openssl from the rig and from libcoap's server.

Reference, measured in the same run: `coap-server-openssl -d 4` holding the same
file (PUT once, then served from its memory). The rig: Lwm2mServer in its own
process (bench/rig_fw_server.py). Runs alternate rig/libcoap so machine load
hits both alike; the figure is the median of per-pair time ratios, for 1024 and
256-byte blocks, plain CoAP and DTLS (PSK). Target: at most 4x. Also printed:
each server's CPU time per block (from /proc, 10 ms ticks summed over the
rounds), which other load on the machine disturbs less than wall time.

    .venv/bin/python bench/serving_cost.py [--rounds 5] [--profile FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_helpers import load_average  # noqa: E402

from rig.netutil import free_udp_pair  # noqa: E402

IDENTITY = "bench"
KEY = "bench-key-123456"  # coap-client takes -k as text; the rig's PSK spec takes its hex
SIZE = 1 << 20
TARGET = 4.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): what serving cost its server, whatever else runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fetch(uri: str, block: int, out: Path, dtls: bool) -> float:
    args = ["coap-client-openssl", "-m", "get", "-b", str(block), "-B", "120", "-o", str(out)]
    if dtls:
        args += ["-u", IDENTITY, "-k", KEY]
    t0 = time.perf_counter()
    proc = subprocess.run([*args, uri], capture_output=True, text=True, timeout=180)
    took = time.perf_counter() - t0
    if proc.returncode != 0 or out.stat().st_size != SIZE:
        raise SystemExit(f"fetch of {uri} failed ({proc.returncode}): {proc.stderr[-400:]}")
    return took


def start_libcoap(data: Path) -> tuple[subprocess.Popen, int]:
    port = free_udp_pair()
    proc = subprocess.Popen(["coap-server-openssl", "-A", "127.0.0.1", "-p", str(port), "-d", "4", "-k", KEY, "-v", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:  # the server is up when the PUT that creates the resource succeeds
        put = subprocess.run(["coap-client-openssl", "-m", "put", "-b", "1024", "-B", "5", "-f", str(data),
                              f"coap://127.0.0.1:{port}/fw/image.bin"], capture_output=True, timeout=30)
        if put.returncode == 0:
            return proc, port
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("coap-server-openssl did not accept the file")


def start_rig(firmware_dir: Path, profile: Path | None) -> tuple[subprocess.Popen, int]:
    script = str(Path(__file__).resolve().parent / "rig_fw_server.py")
    pre = [sys.executable, "-m", "cProfile", "-o", str(profile), script] if profile else [sys.executable, script]
    proc = subprocess.Popen([*pre, str(firmware_dir), f"{IDENTITY}:{IDENTITY}:{KEY.encode().hex()}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("ready "):
        proc.kill()
        raise SystemExit(f"rig server did not start: {line!r}")
    return proc, int(line.split()[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", type=Path, help="write the rig server's cProfile stats here")
    args = ap.parse_args()
    if not shutil.which("coap-server-openssl"):
        raise SystemExit("libcoap3-bin (coap-server-openssl, coap-client-openssl) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        fw = tmpdir / "fw"
        fw.mkdir()
        (fw / "image.bin").write_bytes(bytes((i * 7 + i // 251) & 0xFF for i in range(SIZE)))
        rig, rig_port = start_rig(fw, args.profile)
        lib, lib_port = start_libcoap(fw / "image.bin")
        out = tmpdir / "out.bin"
        figures: list[tuple[str, float, float, float]] = []
        try:
            for dtls in (False, True):
                scheme, off = ("coaps", 1) if dtls else ("coap", 0)
                for block in (1024, 256):
                    rig_uri = f"{scheme}://127.0.0.1:{rig_port + off}/fw/image.bin"
                    lib_uri = f"{scheme}://127.0.0.1:{lib_port + off}/fw/image.bin"
                    ratios, rig_t, lib_t = [], [], []
                    cpu0 = cpu_seconds(rig.pid), cpu_seconds(lib.pid)
                    for _ in range(args.rounds):
                        a = fetch(rig_uri, block, out, dtls)
                        b = fetch(lib_uri, block, out, dtls)
                        rig_t.append(a)
                        lib_t.append(b)
                        ratios.append(a / b)
                    requests = args.rounds * SIZE // block
                    cpu = [(cpu_seconds(p) - c0) / requests * 1e6 for p, c0 in zip((rig.pid, lib.pid), cpu0)]
                    figures.append((f"{scheme} {block} B", statistics.median(rig_t), statistics.median(lib_t),
                                    statistics.median(ratios), cpu[0], cpu[1]))
        finally:
            rig.stdin.close()
            rig.wait(timeout=30)
            lib.terminate()
            lib.wait(timeout=10)
    print(f"1 MiB block-wise GET by coap-client-openssl, {args.rounds} interleaved rounds, load average {load_average()}")
    for name, a, b, r, cpu_rig, cpu_lib in figures:
        print(f"  {name:<12} rig {a:6.3f} s  libcoap {b:6.3f} s  median ratio {r:5.2f}x"
              f"   server CPU a block: rig {cpu_rig:4.0f} us, libcoap {cpu_lib:3.0f} us")
    worst = max(f[3] for f in figures)
    print(f"serving cost: worst median ratio rig/libcoap {worst:.2f}x (target <= {TARGET:g}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
