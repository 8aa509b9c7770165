"""Prometheus' own promqltest scripts are the specification: none may fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrix.promql import evaluator
from orchestrix.promql.promqltest import run_file

TESTDATA = Path(__file__).parents[3].parent / "shared" / "promql" / "testdata"
FILES = sorted(TESTDATA.glob("*.test")) if TESTDATA.is_dir() else []


@pytest.mark.skipif(not FILES, reason=f"Prometheus promqltest scripts not found in {TESTDATA}")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_prometheus_script_has_no_failing_eval(path: Path) -> None:
    # Given one of Prometheus' promqltest scripts
    # When every eval in it runs against our engine
    report = run_file(str(path))

    # Then nothing fails, and whatever is skipped says it is about native histograms or syntax
    failures = [f"{o.line}: {o.query}: {o.reason}" for o in report.outcomes if o.status == "failed"]
    assert failures == []
    assert report.count("passed") > 0
    for o in report.outcomes:
        if o.status == "skipped":
            assert "native histogram" in o.reason or "promql-parser rejects" in o.reason


@pytest.mark.skipif(not FILES, reason=f"Prometheus promqltest scripts not found in {TESTDATA}")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_prometheus_script_passes_with_every_selection_vectorised(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the numpy kernels used for every selection, however few series it has
    monkeypatch.setattr(evaluator, "KERNEL_MIN_SERIES", 0)

    # When the script runs, then it fails no more than the step-wise evaluation does
    report = run_file(str(path))
    failures = [f"{o.line}: {o.query}: {o.reason}" for o in report.outcomes if o.status == "failed"]
    assert failures == []
