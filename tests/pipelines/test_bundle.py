"""Bundle folders: staging left behind by a killed run is swept by the next one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines import bundle as bundles


def finished_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_next_run_sweeps_staging_of_dead_processes_on_this_host(tmp_path: Path) -> None:
    folder = tmp_path / "house-price"
    live = bundles.new_staging_dir(tmp_path, "house-price")  # this process: alive
    dead = folder / live.name.replace(f"-{os.getpid()}-", f"-{finished_pid()}-")
    other_host = folder / f".staging-elsewhere-{finished_pid()}-abc"
    unknown = folder / ".staging-0123456789abcdef"  # no owner recorded: left alone
    for path in (dead, other_host, unknown):
        path.mkdir()
        (path / "model.onnx").write_bytes(b"half written")

    fresh = bundles.new_staging_dir(tmp_path, "house-price")

    assert not dead.exists()
    assert {p.name for p in folder.iterdir()} == {
        live.name,
        fresh.name,
        other_host.name,
        unknown.name,
    }
