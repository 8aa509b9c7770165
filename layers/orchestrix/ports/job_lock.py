from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class JobLock(Protocol):
    """At most one run of a scheduled job at a time, across every container of the stage."""

    def hold(self, job: str) -> AbstractContextManager[bool]:
        """Take the job's lock for the `with` block if nobody holds it: True when taken
        (run the job), False when another run holds it (skip). Never waits."""
        ...
