"""Who owns a working folder: a tag of host and process, and whether its owner is gone.

Work in progress lives in hidden folders named with such a tag (bundle staging, the lake's
backup during a run). A run that is killed outright cannot clean up after itself; the next
run on the same host finds the folders whose process no longer exists and deals with them.
A folder of another host (a data or models folder shared over a volume) is never touched.
Standard library only: the service imports this through ``pipelines.bundle``.
"""

from __future__ import annotations

import os
import socket

__all__ = ["is_abandoned", "owner_tag"]


def owner_tag() -> str:
    """``<host>-<pid>`` of this process; the host part never contains a ``-``."""
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}"


def is_abandoned(tag: str) -> bool:
    """Whether ``tag`` names a process of this host that no longer runs."""
    host, _, pid = tag.rpartition("-")
    if host != owner_tag().rpartition("-")[0] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: alive
        return False
    return False
