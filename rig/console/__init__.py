"""Console backends of a place: the board's log as timestamped lines in the timeline, a log file per test, and expect."""

from rig.console.base import Console, ConsoleBase, ConsoleClosed, ConsoleError, ConsoleTimeout, Line

__all__ = ["Console", "ConsoleBase", "ConsoleClosed", "ConsoleError", "ConsoleTimeout", "Line"]
