"""The one rule for a file that holds a password: only its owner may read it.

``headwater up`` refuses to start with the console's credentials file readable by group
or others, and the console started on its own (daphne, runserver) refuses it too, as a
Django system check (:mod:`console.checks`); both call :func:`exposed` so they say the
same thing, the way ssh refuses a private key others can read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_GROUP_OR_OTHERS = stat.S_IRWXG | stat.S_IRWXO  # 0o077


def exposed(path: str | os.PathLike[str], *, holds: str = "a password") -> str | None:
    """Why ``path`` must not be used (group or others may access it), or None when it is
    private to its owner or does not exist."""
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if mode & _GROUP_OR_OTHERS:
        return (
            f"{path} is readable by others (mode {mode:04o}); it holds {holds}. "
            f"Run: chmod 600 {path}"
        )
    return None
