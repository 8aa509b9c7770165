"""The promqltest runner reports passes, failures and skips like Prometheus' runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrix.promql.cli import main
from orchestrix.promql.promqltest import run_script

SCRIPT = """
load 1m
  requests_total{job="api"} 0+10x10
  latency{job="api"} {{schema:0 sum:1 count:1}}

eval instant at 5m requests_total
  requests_total{job="api"} 50

eval instant at 5m requests_total
  requests_total{job="api"} 51

eval range from 0 to 2m step 1m requests_total * 2
  {job="api"} 0 20 40

eval instant at 1m latency
  {job="api"} {{schema:0 sum:1 count:1}}

eval instant at 1m sum(requests_total) +
  expect fail

eval instant at 5m requests_total + on() group_left requests_total
  expect fail msg: this message is not what the engine says
"""


def test_wrong_expectation_is_reported_as_failed() -> None:
    # Given a script whose second eval expects a value the data does not give
    # When it runs
    report = run_script(SCRIPT, "inline.test")

    # Then each eval gets the status a reader of the script would expect
    statuses = [(o.line, o.status) for o in report.outcomes]
    assert statuses == [
        (6, "passed"),
        (9, "failed"),
        (12, "passed"),
        (15, "skipped"),
        (18, "skipped"),
        (21, "failed"),
    ]
    assert "expected 51.0" in report.outcomes[1].reason
    assert "native histogram" in report.outcomes[3].reason
    assert "promql-parser rejects" in report.outcomes[4].reason
    assert report.summary() == "2 passed, 2 failed, 2 skipped"


def test_cli_lists_failures_and_exits_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a script file with a failing eval
    path = tmp_path / "wrong.test"
    path.write_text(SCRIPT)

    # When the CLI runs it
    code = main([str(path)])

    # Then it lists the failure and the skips with reasons, prints the summary, exits 1
    out = capsys.readouterr().out
    assert code == 1
    assert f"FAILED {path}:9 requests_total" in out
    assert f"SKIPPED {path}:15 latency: expects native histogram samples" in out
    assert out.strip().endswith("2 passed, 2 failed, 2 skipped")


def test_cli_exits_zero_when_everything_passes(tmp_path: Path) -> None:
    path = tmp_path / "ok.test"
    path.write_text("load 1m\n  up 1\n\neval instant at 0 up\n  up 1\n")

    assert main([str(path)]) == 0
