"""`orchestrix anomaly nab` and `nab-score` on a tiny NAB-shaped corpus."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from orchestrix.local.cli import main


def corpus(root: Path) -> Path:
    """One category, one file: a noisy daily-ish series with a jump inside a window."""
    data = root / "data" / "demo"
    data.mkdir(parents=True)
    start = datetime(2026, 1, 1)
    stamps = [(start + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(2000)]
    with (data / "jump.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["timestamp", "value"])
        for i, ts in enumerate(stamps):
            value = 50 + 10 * math.sin(i / 20) + (i * 7919 % 13) / 13 + (40 if i >= 1500 else 0)
            out.writerow([ts, value])
    labels = root / "labels"
    labels.mkdir()
    window = [f"{stamps[1450]}.000000", f"{stamps[1549]}.000000"]
    (labels / "combined_windows.json").write_text(json.dumps({"demo/jump.csv": [window]}))
    return root


def test_nab_writes_result_files_and_prints_the_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = corpus(tmp_path)

    code = main(["anomaly", "nab", str(root / "data"), str(root / "out")])

    printed = capsys.readouterr().out
    assert code == 0
    result = root / "out" / "orchestrix" / "demo" / "orchestrix_jump.csv"
    rows = list(csv.DictReader(result.open()))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label"]
    assert [r["label"] for r in rows].count("1") == 100
    assert rows[1450]["label"] == "1" and rows[1449]["label"] == "0"
    assert all(0.0 <= float(r["anomaly_score"]) < 1.0 for r in rows)
    # the jump is found at once: a detection early in the window, nothing else
    assert "NAB score (standard profile): " in printed
    assert "1/1 windows detected, 0 false positives" in printed

    main(["anomaly", "nab-score", str(result.parent.parent),
          "--labels", str(root / "labels" / "combined_windows.json")])  # fmt: skip
    again = capsys.readouterr().out
    assert again.splitlines()[0] == next(
        line for line in printed.splitlines() if line.startswith("NAB score")
    )


def test_nab_on_an_empty_folder_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text("{}")

    code = main(["anomaly", "nab", str(tmp_path / "data"), str(tmp_path / "out")])

    assert code == 1
    assert "no data files" in capsys.readouterr().err


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    """`orchestrix anomaly nab … | head -1`: no traceback when head has read its line."""
    root = corpus(tmp_path)
    command = [sys.executable, "-c", "import sys; from orchestrix.local.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "anomaly", "nab", str(root / "data"),
               str(root / "out")]  # fmt: skip
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    first = reader.stdout.readline()
    reader.stdout.close()  # as head does once it has its line
    errors = reader.stderr.read().decode()
    code = reader.wait(timeout=60)

    assert first.startswith(b"wrote ")
    assert "Traceback" not in errors
    assert code in (0, 141)
