"""State machines from statemachines/*.asl.json: every ${Placeholder} is substituted with the
ARN of the function wiring names for it."""

from __future__ import annotations

import json
import re

import pytest
from conftest import FIXTURES, Built, build

from infra.constructs.workflows import placeholders
from orchestrix import wiring

pytestmark = pytest.mark.xdist_group("cdk")


def test_deployed_definition_is_the_asl_file_with_every_placeholder_substituted(
    full: Built,
) -> None:
    (machine,) = full.of_type("AWS::StepFunctions::StateMachine").values()
    functions = {
        props["Properties"]["FunctionName"]: logical
        for logical, props in full.of_type("AWS::Lambda::Function").items()
        if "FunctionName" in props["Properties"]
    }
    spec = full.tables.state_machines[0]
    source = (FIXTURES / spec.definition).read_text()

    definition = machine["Properties"]["DefinitionString"]
    substitutions = machine["Properties"]["DefinitionSubstitutions"]

    # The deployed text is the file; CloudFormation fills each placeholder from the map.
    assert json.loads(definition) == json.loads(source)
    assert placeholders(definition) == set(substitutions) == set(spec.functions)
    for placeholder, function_name in spec.functions.items():
        logical = functions[f"orchestrix-full-{function_name}"]
        assert substitutions[placeholder] == {"Fn::GetAtt": [logical, "Arn"]}
    filled = re.sub(r"\$\{(\w+)\}", lambda m: f"arn-of-{m.group(1)}", definition)
    states = json.loads(filled)["States"]
    assert states["Check"]["Parameters"]["FunctionName"] == "arn-of-CheckFunctionArn"


def test_state_machine_logs_errors_with_execution_data_under_the_workflow_role(
    full: Built,
) -> None:
    (machine,) = full.of_type("AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]

    assert props["LoggingConfiguration"]["Level"] == "ERROR"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_a_placeholder_without_a_function_fails_synth() -> None:
    broken = wiring.StateMachine("broken", "sample.asl.json", {"CheckFunctionArn": "api"})
    from infra.stacks.orchestrix_stack import Tables

    with pytest.raises(Exception, match=r"no function for placeholders \['ActFunctionArn'\]"):
        build({"stage": "broken"}, Tables(state_machines=(broken,)), statemachines_dir=FIXTURES)
