"""Independent peers the tests talk to (libcoap's clients and servers): found, or the test cannot run.

On a developer's machine a missing peer is a skip that says how to install it; under CI
(`$CI` set, as .ci/run does) it is a failure, because CI installed it and a suite that
silently skipped its interoperability tests would read green while proving nothing.
"""

from __future__ import annotations

import os
import shutil

import pytest

INSTALL = {"coap-": "apt-get install libcoap3-bin"}


def need(*tools: str) -> str:
    """The path of the first tool; every tool must exist."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        hint = next((how for prefix, how in INSTALL.items() if missing[0].startswith(prefix)), "install it")
        text = f"{', '.join(missing)} not installed ({hint})"
        if os.environ.get("CI"):
            pytest.fail(f"{text}: CI must run this interoperability test")
        pytest.skip(text)
    return shutil.which(tools[0]) or tools[0]
