"""`make bench`: run every benchmark module and write docs/benchmarks.md.

Each module `bench/bench_<topic>.py` exposes `run() -> str`, returning a Markdown section
(a `## heading`, what was measured, a table). Figures are compared against a reference
measured in the same run on the same machine where the issue asks for a ratio.
Run one topic with `python -m bench <topic> ...`; the others keep their last section.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pathlib
import platform
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks.md"
MARK = "<!-- bench:{} -->"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _topics() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py"))


def _previous_sections() -> dict[str, str]:
    if not OUT.exists():
        return {}
    text = OUT.read_text()
    found = re.findall(r"<!-- bench:(\w+) -->\n(.*?)(?=<!-- bench:|\Z)", text, flags=re.S)
    return {name: body.rstrip() + "\n" for name, body in found}


def main(argv: list[str]) -> int:
    wanted = argv or _topics()
    sections = _previous_sections()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    for topic in wanted:
        print(f"bench: {topic} ...", flush=True)
        module = importlib.import_module(f"bench.bench_{topic}")
        body = module.run().rstrip() + "\n"
        sections[topic] = f"{body}\n_Measured {stamp} on {_machine()}._\n"
    parts = [
        "# Benchmarks\n",
        "Written by `make bench` (`python -m bench [topic ...]`); every figure below was "
        "measured on the machine and date printed under its section. Ratios compare against a "
        "reference run on the same machine in the same run.\n",
    ]
    for topic in _topics():
        if topic in sections:
            parts.append(MARK.format(topic) + "\n" + sections[topic])
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(parts))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
