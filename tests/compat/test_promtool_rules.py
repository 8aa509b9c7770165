"""`promtool test rules` and Orchestrix agree on firing alerts, labels and annotations.

Each rule file under `alerting_rules/` comes with a promtool unit test. promtool must pass
it (so the expectations are Prometheus' own behaviour); then Orchestrix loads the same
series, imports the same rule file, evaluates every minute from 0 like promtool does, and
must produce exactly the expected alerts at every `eval_time`.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrix.domain.alerting.durations import parse_duration
from orchestrix.domain.alerting.evaluation import ActiveState, ResultSample, step
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.promql import Engine, MemoryStorage
from orchestrix.promql.parse import parse
from orchestrix.promql.testfile import parse_series_line
from orchestrix.services.rule_files import load_rule_file
from orchestrix.services.rule_results import SharedResults

pytestmark = [pytest.mark.compat, pytest.mark.xdist_group("compat")]
HERE = Path(__file__).parent / "alerting_rules"
PROMTOOL = shutil.which("promtool")
TESTS = sorted(HERE.glob("*.test.yml"))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian package prometheus) not installed")
@pytest.mark.parametrize("test_file", TESTS, ids=[t.name for t in TESTS])
def test_promtool_accepts_the_expectations(test_file: Path) -> None:
    run = subprocess.run(
        [str(PROMTOOL), "test", "rules", test_file.name],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _storage(case: dict[str, Any]) -> MemoryStorage:
    storage = MemoryStorage()
    step_ms = parse_duration(case.get("interval", "1m")) * 1000
    for entry in case["input_series"]:
        series = parse_series_line(f"{entry['series']} {entry['values']}", 0)
        for i, value in enumerate(series.points):
            if isinstance(value, float):
                storage.add(series.labels, i * step_ms, value)
    return storage


def _firing_by_minute(
    rules: list[AlertRule], storage: MemoryStorage, until_s: int, every_s: int
) -> dict[tuple[int, str], list[tuple[dict[str, str], dict[str, str]]]]:
    states: dict[str, dict[str, ActiveState]] = {r.id: {} for r in rules}
    firing: dict[tuple[int, str], list[tuple[dict[str, str], dict[str, str]]]] = {}
    for t in range(0, until_s + 1, every_s):
        at = EPOCH + timedelta(seconds=t)
        results = SharedResults(Engine(storage), t * 1000)
        for rule in rules:
            samples = [
                ResultSample(dict(labels), v)
                for labels, v in results.evaluate(parse(rule.expr), rule.expr)
            ]
            states[rule.id] = step(rule, samples, states[rule.id], at).states
            firing[(t, rule.name)] = sorted(
                (
                    (s.labels, s.annotations)
                    for s in states[rule.id].values()
                    if s.state == "firing"
                ),
                key=lambda la: sorted(la[0].items()),
            )
    return firing


@pytest.mark.parametrize("test_file", TESTS, ids=[t.name for t in TESTS])
def test_orchestrix_fires_the_same_alerts_as_promtool(test_file: Path) -> None:
    spec = yaml.safe_load(test_file.read_text())
    drafts = []
    for rule_file in spec["rule_files"]:
        drafts += load_rule_file((HERE / rule_file).read_text())[0]
    rules = [
        AlertRule(
            id=f"rule_{i}",
            tenant_id="compat",
            name=d.name,
            expr=d.promql(),
            for_s=d.for_s,
            keep_firing_for_s=d.keep_firing_for_s,
            labels=d.labels,
            annotations=d.annotations,
        )
        for i, d in enumerate(drafts)
    ]
    every = parse_duration(spec.get("evaluation_interval", "1m"))
    for case in spec["tests"]:
        checks = case["alert_rule_test"]
        until = max(parse_duration(c["eval_time"]) for c in checks)
        firing = _firing_by_minute(rules, _storage(case), until, every)
        for check in checks:
            t = parse_duration(check["eval_time"])
            expected = sorted(
                (
                    {
                        **{k: str(v) for k, v in a.get("exp_labels", {}).items()},
                        "alertname": check["alertname"],
                    },
                    {k: str(v) for k, v in a.get("exp_annotations", {}).items()},
                )
                for a in check.get("exp_alerts") or []
            )
            got = firing[(t, check["alertname"])]
            assert got == sorted(expected, key=lambda la: sorted(la[0].items())), (
                f"{check['alertname']} at {check['eval_time']}"
            )
