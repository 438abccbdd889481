"""What a device answered to a device-management request: the code always, decoded values when there are any.

A 4.05 to an Execute outside Downloaded is a result to check, not a rig failure,
so errors from the device are data here, never exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiocoap import Code


@dataclass
class DmResponse:
    op: str
    path: str
    code: Code | None
    values: dict[tuple[int, ...], Any] = field(default_factory=dict)
    payload: bytes = b""
    content_format: int | None = None
    error: str | None = None  # transport failure (timeout, reset) or undecodable payload

    @property
    def ok(self) -> bool:
        return self.code is not None and self.code.is_successful() and self.error is None

    @property
    def code_text(self) -> str:
        if self.code is None:
            return "no answer"
        return self.code.dotted

    @property
    def value(self) -> Any:
        """The single value of a one-resource answer (None when there is not exactly one)."""
        if len(self.values) == 1:
            return next(iter(self.values.values()))
        return None
