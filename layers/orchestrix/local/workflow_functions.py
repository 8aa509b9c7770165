"""Local runtime support for workflows on moto's Step Functions engine.

Compiled state machines invoke `lambda:invoke` on wiring functions; moto's Lambda would run
them in Docker, so every wiring function is created in moto (placeholder code, a dummy role)
and the in-process hook sends its invocations to the real handler module.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrix import wiring
from orchestrix.local import lambda_hook
from orchestrix.local.aws import REGION

log = logging.getLogger(__name__)
Invoke = Callable[[str, dict[str, Any]], Any]
_ROLE = "orchestrix-local-lambda"


def register_functions(invoke: Invoke) -> None:
    """Create each wiring function in moto's Lambda and run its invocations in process."""
    import boto3

    iam = boto3.client("iam", region_name=REGION)
    try:
        role = iam.create_role(
            RoleName=_ROLE,
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=_ROLE)["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    code = lambda_hook.placeholder_zip()
    for fn in wiring.FUNCTIONS:
        with contextlib.suppress(lam.exceptions.ResourceConflictException):
            lam.create_function(
                FunctionName=fn.name,
                Runtime="python3.12",
                Role=role,
                Handler=fn.handler,
                Code={"ZipFile": code},
                Timeout=min(fn.timeout_s, 900),
                MemorySize=fn.memory_mb,
            )
    lambda_hook.install({fn.name: _bound(invoke, fn.name) for fn in wiring.FUNCTIONS})


def _bound(invoke: Invoke, name: str) -> Callable[[Any, Any], Any]:
    def run(event: Any, context: Any) -> Any:
        return invoke(name, event)

    return run


def state_machine_arn_prefix(prefix: str) -> str:
    """ARN prefix of the stage's machines in the emulator (moto's default account)."""
    from orchestrix.adapters.aws.state_machines import stage_prefix

    return f"arn:aws:states:{REGION}:123456789012:stateMachine:{stage_prefix(prefix)}-"


def create_state_machines(prefix: str, statemachines_dir: Path | None = None) -> list[str]:
    """Create every `wiring.STATE_MACHINES` entry in moto as the CDK deploys it: the ASL file
    with each `${Placeholder}` replaced by its function's ARN. Through the Step Functions API,
    because moto's executor never sees machines made any other way. Returns their ARNs."""
    import boto3

    from orchestrix import bootstrap
    from orchestrix.adapters.aws.state_machines import declared_name

    folder = statemachines_dir or Path(__file__).resolve().parents[3] / "statemachines"
    sfn = boto3.client("stepfunctions", region_name=REGION)
    role = "arn:aws:iam::123456789012:role/orchestrix-local-states"
    arns = []
    for machine in wiring.STATE_MACHINES:
        definition = (folder / machine.definition).read_text()
        for placeholder, function in machine.functions.items():
            definition = definition.replace(f"${{{placeholder}}}", bootstrap.function_arn(function))
        name = declared_name(prefix, machine.name)
        try:
            arn = sfn.create_state_machine(name=name, definition=definition, roleArn=role)[
                "stateMachineArn"
            ]
        except sfn.exceptions.StateMachineAlreadyExists:
            arn = next(
                m["stateMachineArn"]
                for page in sfn.get_paginator("list_state_machines").paginate()
                for m in page["stateMachines"]
                if m["name"] == name
            )
            sfn.update_state_machine(stateMachineArn=arn, definition=definition)
        arns.append(str(arn))
    return arns


def write_endpoint(home: Path, url: str) -> None:
    """`.orchestrix/aws.json`: the local AWS endpoint, for scripts and tests that prepare
    resources a workflow acts on (an ECS service to restart, ...)."""
    (home / "aws.json").write_text(json.dumps({"endpoint_url": url, "region": REGION}) + "\n")


def stop_executions() -> None:
    """Stop every running execution: moto's engine threads outlive the server otherwise and
    then call a port nobody listens on."""
    import boto3

    from orchestrix.adapters.aws.stepfunctions import release_token_waits

    sfn = boto3.client("stepfunctions", region_name=REGION)
    try:
        pages = sfn.get_paginator("list_state_machines").paginate()
        machines = [m["stateMachineArn"] for page in pages for m in page["stateMachines"]]
        for machine in machines:
            running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")
            for execution in running["executions"]:
                arn = execution["executionArn"]
                with contextlib.suppress(Exception):
                    sfn.stop_execution(executionArn=arn, error="Shutdown", cause="server stopped")
                release_token_waits(arn)
    except Exception:
        log.exception("could not stop running workflow executions")
    lambda_hook.uninstall()
