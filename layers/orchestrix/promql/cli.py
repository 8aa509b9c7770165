"""``orchestrix promqltest FILE...``: run promqltest scripts and report every outcome."""

from __future__ import annotations

import argparse
import sys

from .promqltest import Report, run_file


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="orchestrix promqltest", description=__doc__)
    ap.add_argument("files", nargs="+", help="promqltest scripts (*.test)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list passed evals")
    args = ap.parse_args(argv)
    total = Report()
    for path in args.files:
        report = run_file(path)
        total.outcomes.extend(report.outcomes)
        print(f"{path}: {report.summary()}")
    for o in total.outcomes:
        if o.status == "failed" or o.status == "skipped" or args.verbose:
            reason = f": {o.reason}" if o.reason else ""
            print(f"{o.status.upper()} {o.file}:{o.line} {o.query}{reason}")
    print(total.summary())
    return 1 if total.count("failed") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
