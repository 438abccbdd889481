"""One error type for everything a user can fix, so the CLI prints one line instead of a traceback."""


class RigError(Exception):
    """A problem with the user's input or environment: the message says what is wrong, where, and what to do."""
