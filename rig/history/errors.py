"""The one error of the history: the file cannot be opened, read, written or understood."""

from rig.errors import RigError


class HistoryError(RigError):
    """The message names the file and what is wrong with it."""
