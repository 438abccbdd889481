"""Block events and hooks: how a fault plan holds a block until the power is off.

Both directions of a firmware transfer (Block2 served to a pulling client, Block1
pushed to /5/0/0) call the hooks before a block goes out. A hook that awaits
holds that block; one that returns BlockAction.DROP makes the rig never answer it
(the device sees a lost connection).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Awaitable, Callable


class BlockAction(enum.Enum):
    SEND = "send"
    DROP = "drop"


@dataclass(frozen=True)
class BlockEvent:
    direction: str  # "block2" (served) or "block1" (pushed)
    resource: str  # file name served, or the LwM2M path pushed to
    num: int
    offset: int
    size: int
    total: int
    more: bool
    peer: str
    endpoint: str | None = None

    @property
    def blocks_total(self) -> int:
        return -(-self.total // self.size) if self.size else 0


BlockHook = Callable[[BlockEvent], Awaitable["BlockAction | None"]]


class BlockHooks:
    """An ordered list of hooks; the first DROP wins."""

    def __init__(self) -> None:
        self._hooks: list[BlockHook] = []

    def add(self, hook: BlockHook) -> Callable[[], None]:
        self._hooks.append(hook)

        def remove() -> None:
            if hook in self._hooks:
                self._hooks.remove(hook)

        return remove

    @property
    def active(self) -> bool:
        """Any hook registered: a block may then be held or dropped (the fast path asks before answering)."""
        return bool(self._hooks)

    async def run(self, event: BlockEvent) -> BlockAction:
        for hook in list(self._hooks):
            if await hook(event) is BlockAction.DROP:
                return BlockAction.DROP
        return BlockAction.SEND
