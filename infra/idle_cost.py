"""What a stage costs doing nothing, counted from its synthesized CloudFormation templates.

`python -m infra.idle_cost [-c profile=production ...]` synthesizes the stage offline (no
bundling, no credentials) and prints the Markdown table that docs/deploy.md carries;
tests/infra/test_infra_idle_cost.py checks the two agree, so the documentation cannot drift
from the template.

Idle means no API traffic, no alert rules, no incidents. Prices: us-east-1 on-demand list
prices (checked November 2026), 730 hours a month. Resources that only bill per request or
per GB (Lambda, API Gateway, SQS, SNS, EventBridge, Scheduler, CloudWatch Logs, Step
Functions) are listed once as cents.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrix import wiring

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = HOURS_PER_MONTH / 24

# us-east-1 list prices (USD); each is one line of the AWS pricing page named beside it.
PRICES = {
    "ec2_hour": {"t4g.nano": 0.0042, "t4g.micro": 0.0084},  # EC2 on-demand, Linux
    "ebs_gp3_gb_month": 0.08,  # EBS gp3 storage
    "public_ipv4_hour": 0.005,  # VPC: in-use public IPv4 address
    "nat_gateway_hour": 0.045,  # VPC: NAT gateway (plus $0.045/GB processed)
    "interface_endpoint_az_hour": 0.01,  # PrivateLink: interface endpoint per AZ
    "aurora_acu_hour": 0.12,  # Aurora Serverless v2 (Standard), per ACU-hour
    "aurora_storage_gb_month": 0.10,  # Aurora Standard storage
    "kms_key_month": 1.00,  # KMS customer-managed key
    "secret_month": 0.40,  # Secrets Manager secret
    "alarm_month": 0.10,  # CloudWatch standard-resolution metric alarm
    "dashboard_month": 3.00,  # CloudWatch dashboard (beyond an account's 3 free ones)
    "waf_acl_month": 5.00,  # WAF web ACL
    "waf_rule_month": 1.00,  # WAF rule
}
# An almost empty database; Aurora bills the storage actually used, backups up to that size
# are free.
AURORA_IDLE_STORAGE_GB = 1
# A run on a paused cluster: ~15 s to resume, the job, then AUTO_PAUSE (300 s, the minimum)
# without connections before it pauses again; billed at the 0.5 ACU a resumed cluster starts at.
WAKE_MINUTES = 6
WAKE_ACU = 0.5

_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_PER_MONTH = {"minute": HOURS_PER_MONTH * 60, "hour": HOURS_PER_MONTH, "day": DAYS_PER_MONTH}


@dataclass(frozen=True)
class Line:
    item: str
    count: int
    rate: str
    monthly: float


def runs_per_month(expression: str) -> float:
    m = _RATE.match(expression)
    if m is None:
        raise ValueError(f"idle cost: only rate(...) schedules are understood, got {expression}")
    return _PER_MONTH[m.group(2)] / int(m.group(1))


def _of_type(resources: Mapping[str, Any], cfn_type: str) -> list[dict[str, Any]]:
    return [r.get("Properties", {}) for r in resources.values() if r["Type"] == cfn_type]


def _instances(resources: Mapping[str, Any]) -> list[Line]:
    lines = []
    public_subnets = {
        key
        for key, r in resources.items()
        if r["Type"] == "AWS::EC2::Subnet" and r["Properties"].get("MapPublicIpOnLaunch")
    }
    for props in _of_type(resources, "AWS::EC2::Instance"):
        kind = props["InstanceType"]
        hourly = PRICES["ec2_hour"][kind]  # type: ignore[index]
        lines.append(Line(f"EC2 {kind} (NAT instance)", 1, f"${hourly:g}/hour",
                          hourly * HOURS_PER_MONTH))  # fmt: skip
        for mapping in props.get("BlockDeviceMappings", []):
            size = mapping["Ebs"]["VolumeSize"]
            rate = PRICES["ebs_gp3_gb_month"]
            lines.append(Line(f"its EBS gp3 root volume, {size} GiB", 1, f"${rate:g}/GB-month",
                              size * rate))  # fmt: skip
        if props.get("SubnetId", {}).get("Ref") in public_subnets:
            lines.append(_ipv4("its public IPv4 address", 1))
    return lines


def _ipv4(item: str, count: int) -> Line:
    rate = PRICES["public_ipv4_hour"]
    return Line(item, count, f"${rate:g}/hour", count * rate * HOURS_PER_MONTH)


def _network(resources: Mapping[str, Any]) -> list[Line]:
    lines = _instances(resources)
    gateways = len(_of_type(resources, "AWS::EC2::NatGateway"))
    if gateways:
        rate = PRICES["nat_gateway_hour"]
        lines.append(Line("NAT gateway", gateways, f"${rate:g}/hour",
                          gateways * rate * HOURS_PER_MONTH))  # fmt: skip
    eips = len(_of_type(resources, "AWS::EC2::EIP"))
    if eips:
        lines.append(_ipv4("Elastic IP of a NAT gateway", eips))
    interface = [
        p for p in _of_type(resources, "AWS::EC2::VPCEndpoint")
        if p.get("VpcEndpointType") == "Interface"
    ]  # fmt: skip
    if interface:
        azs = sum(len(p["SubnetIds"]) for p in interface)
        rate = PRICES["interface_endpoint_az_hour"]
        lines.append(Line(f"interface VPC endpoints ({azs} endpoint-AZs)", len(interface),
                          f"${rate:g}/AZ-hour", azs * rate * HOURS_PER_MONTH))  # fmt: skip
    return lines


def _database(resources: Mapping[str, Any]) -> list[Line]:
    lines = []
    acu = PRICES["aurora_acu_hour"]
    paused = False
    for props in _of_type(resources, "AWS::RDS::DBCluster"):
        scaling = props.get("ServerlessV2ScalingConfiguration", {})
        floor = float(scaling.get("MinCapacity", 0.5))
        paused = floor == 0
        item = (
            "Aurora Serverless v2 at 0 ACU (paused)"
            if paused
            else f"Aurora Serverless v2 at its {floor:g} ACU floor"
        )
        lines.append(Line(item, 1, f"${acu:g}/ACU-hour", floor * acu * HOURS_PER_MONTH))
        storage = PRICES["aurora_storage_gb_month"]
        lines.append(Line(f"Aurora storage, ~{AURORA_IDLE_STORAGE_GB} GB", 1,
                          f"${storage:g}/GB-month", AURORA_IDLE_STORAGE_GB * storage))  # fmt: skip
    if paused:
        wakes = _wakes_per_month(resources)
        hours = wakes * WAKE_MINUTES / 60
        lines.append(Line(f"Aurora woken by schedules ({wakes:.0f} runs × {WAKE_MINUTES} min)",
                          round(wakes), f"{WAKE_ACU:g} ACU × ${acu:g}/ACU-hour",
                          hours * WAKE_ACU * acu))  # fmt: skip
    return lines


def _wakes_per_month(resources: Mapping[str, Any]) -> float:
    """Runs a month of every schedule whose function opens a database connection at idle."""
    by_name = {s.name: s for s in wiring.SCHEDULES}
    needs_db = {f.name for f in wiring.FUNCTIONS if "database" in f.capabilities}
    runs = 0.0
    for props in _of_type(resources, "AWS::Scheduler::Schedule"):
        if props.get("State") == "DISABLED":
            continue
        name = str(props.get("Name", ""))
        entry = next((s for key, s in by_name.items() if name.endswith(f"-{key}")), None)
        if entry is None or entry.while_rules_exist or entry.function not in needs_db:
            continue  # idle: no rules, so the evaluator's schedule is disabled
        runs += runs_per_month(str(props["ScheduleExpression"]))
    for props in _of_type(resources, "AWS::SecretsManager::RotationSchedule"):
        days = props["RotationRules"].get("AutomaticallyAfterDays", 30)
        runs += DAYS_PER_MONTH / days
    return runs


def _flat(resources: Mapping[str, Any]) -> list[Line]:
    lines = []
    for cfn_type, item, price in (
        ("AWS::KMS::Key", "KMS customer-managed key", "kms_key_month"),
        ("AWS::SecretsManager::Secret", "Secrets Manager secret", "secret_month"),
        ("AWS::CloudWatch::Alarm", "CloudWatch alarm", "alarm_month"),
        ("AWS::CloudWatch::Dashboard", "CloudWatch dashboard", "dashboard_month"),
        ("AWS::WAFv2::WebACL", "WAF web ACL", "waf_acl_month"),
    ):
        count = len(_of_type(resources, cfn_type))
        if count:
            rate = PRICES[price]
            lines.append(Line(item, count, f"${rate:g}/month", count * rate))  # type: ignore[operator]
    rules = sum(len(p.get("Rules", [])) for p in _of_type(resources, "AWS::WAFv2::WebACL"))
    if rules:
        rate = PRICES["waf_rule_month"]
        lines.append(Line("WAF rule", rules, f"${rate:g}/month", rules * rate))  # type: ignore[operator]
    return lines


def idle_lines(templates: Iterable[Mapping[str, Any]]) -> list[Line]:
    resources: dict[str, Any] = {}
    for template in templates:
        resources |= template.get("Resources", {})
    return [*_network(resources), *_database(resources), *_flat(resources)]


def total(lines: Iterable[Line]) -> float:
    return round(sum(line.monthly for line in lines), 2)


def table(lines: list[Line]) -> str:
    rows = ["| item | count | rate | per month |", "|---|---:|---|---:|"]
    rows += [f"| {x.item} | {x.count} | {x.rate} | ${x.monthly:.2f} |" for x in lines]
    rows.append(
        "| Lambda, API Gateway, EventBridge, Scheduler, SQS, SNS, Logs, flow logs | | "
        "per request / per GB | cents |"
    )
    rows.append(f"| **total** | | | **${total(lines):.2f}** |")
    return "\n".join(rows)


def synthesize(context: Mapping[str, str]) -> list[dict[str, Any]]:
    """The stage's templates (parent and nested API stack), synthesized without bundling and
    with the feature flags of cdk.json, as `cdk synth` builds them."""
    import json
    from pathlib import Path

    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.config import load
    from infra.stacks.orchestrix_stack import OrchestrixStack

    cdk_json = json.loads((Path(__file__).resolve().parents[1] / "cdk.json").read_text())
    flags = {k: v for k, v in cdk_json["context"].items() if k.startswith("@")}
    app = cdk.App(context={**flags, "aws:cdk:bundling-stacks": [], **context})
    stack = OrchestrixStack(app, load(app.node.try_get_context, {}), nag=False)
    return [dict(Template.from_stack(s).to_json()) for s in (stack, stack.api_stack)]


def main(argv: list[str]) -> None:
    context = {"stage": "dev"}
    for i, arg in enumerate(argv):
        if arg == "-c" and i + 1 < len(argv):
            key, _, value = argv[i + 1].partition("=")
            context[key] = value
    print(table(idle_lines(synthesize(context))))


if __name__ == "__main__":
    main(sys.argv[1:])
