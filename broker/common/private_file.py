"""The one rule for a file that holds a password: only its owner may read it.

``headwater up`` refuses to start with the console's credentials file readable by group
or others, and the console started on its own (daphne, runserver) refuses it too, as a
Django system check (:mod:`console.checks`); both ask :func:`exposed` so they say the
same thing, the way ssh refuses a private key others can read. Pure: the callers stat
the file and pass its mode.
"""

from __future__ import annotations

import stat

_GROUP_OR_OTHERS = stat.S_IRWXG | stat.S_IRWXO  # 0o077


def exposed(path: str, st_mode: int, *, holds: str = "a password") -> str | None:
    """Why the file at ``path`` (whose ``stat().st_mode`` is ``st_mode``) must not be
    used, with how to fix it; None when only its owner may access it."""
    mode = stat.S_IMODE(st_mode)
    if mode & _GROUP_OR_OTHERS:
        return (
            f"{path} is readable by others (mode {mode:04o}); it holds {holds}. "
            f"Run: chmod 600 {path}"
        )
    return None
