"""The one error every codec raises, so callers catch a single type and answer 4.00."""

from __future__ import annotations


class CodecError(ValueError):
    """Malformed or mistyped LwM2M payload, path or link-format text.

    The message names the input and what is wrong with it; callers log it and
    answer 4.00 instead of crashing on a client's bad bytes.
    """
