"""History of nights: every run and every case in one SQLite file, so a morning can ask what changed.

`rig run` and the pytest plugin append to it (rig.history.writer); `rig history`
reads it (rig.history.queries, rig.history.changes); report.html shows each plan's
last runs from it. Only the standard library's sqlite3: WAL, a busy timeout and
one short transaction per case, so several places on one Pi write at once.
"""
