"""`orchestrix anomaly nab` and `nab-score`: run the detector on NAB data, score the results.

Data files are NAB's (`<category>/<name>.csv`, `timestamp,value`); results are written the
way NAB expects them: `OUT_DIR/<detector>/<category>/<detector>_<name>.csv` with
`timestamp,value,anomaly_score,label` (label 1 inside a labelled window).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from orchestrix.domain.anomaly.streaming import StreamScorer
from orchestrix.local.nab_score import Point, Result, best_threshold, point_weights, score_at

DETECTOR = "orchestrix"
Windows = dict[str, list[tuple[str, str]]]


def _seconds(ts: str) -> float:
    return datetime.fromisoformat(ts).replace(tzinfo=UTC).timestamp()


def _short(ts: str) -> str:
    """Label files write `2014-02-19 10:50:00.000000`, data files `2014-02-19 10:50:00`."""
    return ts.split(".")[0]


def load_windows(path: Path) -> Windows:
    raw = json.loads(path.read_text())
    return {name: [(_short(a), _short(b)) for a, b in spans] for name, spans in raw.items()}


def data_files(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.glob("*/*.csv"))


def read_series(path: Path) -> tuple[list[str], list[float]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["timestamp"] for r in rows], [float(r["value"]) for r in rows]


def detect(timestamps: list[str], values: list[float]) -> list[float]:
    scorer = StreamScorer()
    return [scorer.score(_seconds(ts), v) for ts, v in zip(timestamps, values, strict=True)]


def _in_windows(timestamps: list[str], spans: Iterable[tuple[str, str]]) -> list[int]:
    labels = [0] * len(timestamps)
    index = {ts: i for i, ts in enumerate(timestamps)}
    for a, b in spans:
        for i in range(index[a], index[b] + 1):
            labels[i] = 1
    return labels


def run(data_dir: Path, out_dir: Path, windows: Windows) -> tuple[int, float]:
    """Write one result file per data file; returns (points, CPU seconds spent detecting)."""
    points, cpu = 0, 0.0
    for name in data_files(data_dir):
        timestamps, values = read_series(data_dir / name)
        started = time.process_time()
        scores = detect(timestamps, values)
        cpu += time.process_time() - started
        points += len(values)
        labels = _in_windows(timestamps, windows.get(name, []))
        category, file = name.split("/")
        target = out_dir / DETECTOR / category / f"{DETECTOR}_{file}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["timestamp", "value", "anomaly_score", "label"])
            for row in zip(timestamps, values, scores, labels, strict=True):
                out.writerow([row[0], repr(row[1]), f"{row[2]:.6f}", row[3]])
    return points, cpu


def read_results(results_dir: Path, windows: Windows) -> dict[str, list[Point]]:
    """Each scored file's points, keyed by `<category>/<name>.csv`."""
    out: dict[str, list[Point]] = {}
    for path in sorted(results_dir.glob("*/*.csv")):
        category = path.parent.name
        name = f"{category}/{path.name.split('_', 1)[1]}"
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        timestamps = [r["timestamp"] for r in rows]
        scores = [float(r["anomaly_score"]) for r in rows]
        out[name] = point_weights(name, timestamps, scores, windows.get(name, []))
    return out


def score(files: dict[str, list[Point]]) -> Result:
    return best_threshold([p for points in files.values() for p in points])


def holdout(files: dict[str, list[Point]]) -> list[tuple[str, Result, Result]]:
    """Leave one category out: the threshold is chosen on the other categories and applied
    to the left-out one. Returns (category, score at that threshold, its own best)."""
    categories = sorted({name.split("/")[0] for name in files})
    rows = []
    for left_out in categories:
        train = [p for n, ps in files.items() if not n.startswith(left_out + "/") for p in ps]
        test = [p for n, ps in files.items() if n.startswith(left_out + "/") for p in ps]
        chosen = best_threshold(train).threshold
        rows.append((left_out, score_at(test, chosen), best_threshold(test)))
    return rows
