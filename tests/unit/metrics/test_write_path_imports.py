"""The remote write path stays light: numpy is for reading metrics only."""

from __future__ import annotations

import subprocess
import sys


def test_the_metric_store_and_write_handler_load_without_numpy() -> None:
    # Given a fresh interpreter, as a cold Lambda container is
    code = (
        "import sys\n"
        "import functions.metrics_write.handler\n"
        "import orchestrix.adapters.postgres.metric_store\n"
        "import orchestrix.promql\n"
        "print('numpy' in sys.modules)\n"
    )

    # When it imports the remote write handler, the metric store and the PromQL engine
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )

    # Then numpy (over 100 ms to import) is not loaded: only a query loads it
    assert result.stdout.strip() == "False"
