"""The local runtime's PostgreSQL bookkeeping after a crash: pids that are no longer ours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestrix.local.postgres import HANDLES, forget_dead_handles, forget_stale_postmaster


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _postmaster_pid_file(pgdata: Path, pid: int) -> Path:
    path = pgdata / "postmaster.pid"
    lines = [str(pid), str(pgdata), "1712346200", "5432", str(pgdata), "", "0 0", "ready"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_killed_holder_is_forgotten_and_live_ones_kept(tmp_path: Path) -> None:
    dead = _dead_pid()
    (tmp_path / HANDLES).write_text(json.dumps([dead, os.getpid()]))

    assert forget_dead_handles(tmp_path) == [dead]

    assert json.loads((tmp_path / HANDLES).read_text()) == [os.getpid()]


def test_a_pid_reused_by_another_program_is_not_a_holder(tmp_path: Path) -> None:
    with subprocess.Popen(["sleep", "30"]) as other:
        (tmp_path / HANDLES).write_text(json.dumps([other.pid]))
        try:
            assert forget_dead_handles(tmp_path) == [other.pid]
        finally:
            other.kill()
    assert json.loads((tmp_path / HANDLES).read_text()) == []


def test_no_handle_file_is_nothing_to_forget(tmp_path: Path) -> None:
    assert forget_dead_handles(tmp_path) == []
    assert not (tmp_path / HANDLES).exists()


def test_a_postmaster_pid_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    path = _postmaster_pid_file(tmp_path, _dead_pid())
    assert forget_stale_postmaster(tmp_path) is True
    assert not path.exists()


def test_a_postmaster_pid_reused_by_another_program_is_removed(tmp_path: Path) -> None:
    path = _postmaster_pid_file(tmp_path, os.getpid())  # alive, but python, not postgres
    assert forget_stale_postmaster(tmp_path) is True
    assert not path.exists()
