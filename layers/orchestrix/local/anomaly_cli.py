"""`orchestrix anomaly nab` / `nab-score`: the detector on the Numenta Anomaly Benchmark."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def _labels(given: str | None, data_dir: Path | None) -> Path:
    if given:
        return Path(given)
    if data_dir is None:
        raise SystemExit("--labels is required")
    return data_dir.parent / "labels" / "combined_windows.json"


def report(results_dir: Path, labels: Path) -> list[str]:
    from orchestrix.local import nab

    windows = nab.load_windows(labels)
    files = nab.read_results(results_dir, windows)
    if not files:
        raise SystemExit(f"no result files under {results_dir}/<category>/")
    total = nab.score(files)
    lines = [
        f"NAB score (standard profile): {total.normalised:.1f}  "
        f"(threshold {total.threshold:.4f}, {total.detected}/{total.windows} windows detected, "
        f"{total.false_positives} false positives, {len(files)} files)"
    ]
    for category, held_out, own in nab.holdout(files):
        score = "n/a" if math.isnan(held_out.normalised) else f"{held_out.normalised:.1f}"
        lines.append(
            f"  leave-one-category-out {category}: {score} with the threshold chosen on the "
            f"others ({held_out.false_positives} false positives; its own best "
            f"{own.normalised:.1f})"
            if not math.isnan(own.normalised)
            else f"  leave-one-category-out {category}: {held_out.false_positives} false "
            f"positives with the threshold chosen on the others (no anomalies to find)"
        )
    return lines


def _nab(args: argparse.Namespace) -> int:
    from orchestrix.local import nab

    data_dir, out_dir = Path(args.data_dir), Path(args.out_dir)
    labels = _labels(args.labels, data_dir)
    points, cpu = nab.run(data_dir, out_dir, nab.load_windows(labels))
    if points == 0:
        print(f"no data files under {data_dir}/<category>/*.csv", file=sys.stderr)
        return 1
    print(f"wrote {out_dir / nab.DETECTOR}: {points} points, "
          f"{1000 * cpu / points * 1000:.1f} ms CPU per 1,000 points")  # fmt: skip
    for line in report(out_dir / nab.DETECTOR, labels):
        print(line)
    return 0


def _nab_score(args: argparse.Namespace) -> int:
    for line in report(Path(args.results_dir), _labels(args.labels, None)):
        print(line)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    anomaly = sub.add_parser("anomaly", help="anomaly detection tools").add_subparsers(
        dest="action", required=True
    )
    run = anomaly.add_parser(
        "nab", help="run the detector on NAB data, write NAB result CSVs and print the score"
    )
    run.add_argument("data_dir", help="NAB's data/ folder: <category>/<name>.csv")
    run.add_argument("out_dir", help="results go to OUT_DIR/orchestrix/<category>/")
    run.add_argument("--labels", help="default: DATA_DIR/../labels/combined_windows.json")
    run.set_defaults(run=_nab)
    score = anomaly.add_parser("nab-score", help="score NAB result CSVs (standard profile)")
    score.add_argument("results_dir", help="one detector's results: <category>/<det>_<name>.csv")
    score.add_argument("--labels", required=True, help="NAB's labels/combined_windows.json")
    score.set_defaults(run=_nab_score)
