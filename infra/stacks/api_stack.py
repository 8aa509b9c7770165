"""The REST API of one stage as a nested stack.

Every route costs the template about two resources (a Method, often a Resource), so with the
API in the stage's own stack the route table and the function table share CloudFormation's
500-resource limit. In a nested stack each gets its own 500. The API's Lambda permissions
live here too, next to the API they name: functions are imported by ARN, so CDK passes each
ARN in as a parameter and the parent stack holds no API resource at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.api import Api
from orchestrix import wiring


class ApiStack(cdk.NestedStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        functions: Mapping[str, lambda_.IFunction],
        retention: logs.RetentionDays,
        routes: Iterable[wiring.Route] = wiring.ROUTES,
    ) -> None:
        super().__init__(scope, id, description=f"Orchestrix REST API, stage {config.stage}")
        routes = tuple(routes)
        used = {route.function for route in routes} | {wiring.AUTHORIZER_FUNCTION}
        imported = {
            name: lambda_.Function.from_function_attributes(
                self,
                f"Function-{name}",
                function_arn=functions[name].function_arn,
                # Same account and region: `add_permission` then writes the permission here.
                same_environment=True,
            )
            for name in sorted(used)
        }
        self.api = Api(
            self, "Api", config=config, functions=imported, retention=retention, routes=routes
        )
