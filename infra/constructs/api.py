"""The REST API: one Lambda proxy method per `wiring.ROUTES` entry behind the TOKEN
authorizer, gateway errors as RFC 9457 problem+json, throttling, access logs, optional WAF
and custom domain."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.waf import ApiFirewall
from orchestrix import wiring

R = apigw.ResponseType
# Gateway-generated errors: (type, status, title). Unknown routes surface as
# MISSING_AUTHENTICATION_TOKEN; answer them as the 404 they are.
GATEWAY_ERRORS: tuple[tuple[apigw.ResponseType, int, str], ...] = (
    (R.UNAUTHORIZED, 401, "Unauthorized"),
    (R.ACCESS_DENIED, 403, "Forbidden"),
    (R.MISSING_AUTHENTICATION_TOKEN, 404, "No route"),
    (R.RESOURCE_NOT_FOUND, 404, "Not Found"),
    (R.BAD_REQUEST_BODY, 400, "Bad Request"),
    (R.BAD_REQUEST_PARAMETERS, 400, "Bad Request"),
    (R.UNSUPPORTED_MEDIA_TYPE, 415, "Unsupported Media Type"),
    (R.REQUEST_TOO_LARGE, 413, "Content Too Large"),
    (R.THROTTLED, 429, "Too Many Requests"),
    (R.QUOTA_EXCEEDED, 429, "Too Many Requests"),
    (R.EXPIRED_TOKEN, 401, "Unauthorized"),
    (R.INVALID_SIGNATURE, 403, "Forbidden"),
    (R.INVALID_API_KEY, 403, "Forbidden"),
    (R.WAF_FILTERED, 403, "Forbidden"),
    (R.AUTHORIZER_FAILURE, 500, "Internal Server Error"),
    (R.AUTHORIZER_CONFIGURATION_ERROR, 500, "Internal Server Error"),
    (R.API_CONFIGURATION_ERROR, 500, "Internal Server Error"),
    (R.INTEGRATION_FAILURE, 504, "Gateway Timeout"),
    (R.INTEGRATION_TIMEOUT, 504, "Gateway Timeout"),
    (R.DEFAULT_4_XX, 400, "Bad Request"),
    (R.DEFAULT_5_XX, 500, "Internal Server Error"),
)
PROBLEM_JSON = "application/problem+json"


def problem_template(status: int, title: str) -> str:
    """Mapping template of a gateway error body; `$context.error.messageString` is quoted."""
    return (
        f'{{"type":"about:blank","title":{json.dumps(title)},"status":{status},'
        '"detail":$context.error.messageString}'
    )


class Api(Construct):
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
        super().__init__(scope, id)
        self._config = config
        self._functions = functions
        self._routes = tuple(routes)
        self.access_logs = (
            logs.LogGroup(
                self, "AccessLogs", retention=retention, removal_policy=cdk.RemovalPolicy.DESTROY
            )
            if config.access_logs
            else None
        )
        self.rest_api = self._build_rest_api()
        self.authorizer = self._build_authorizer()
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        self.public_methods: dict[str, apigw.Method] = {}  # "GET /health" -> method
        self._integrations: dict[str, apigw.Integration] = {}
        for route in self._routes:
            method = self._build_route(route)
            self.methods[(route.method, route.path)] = method
            if not route.auth:
                self.public_methods[f"{route.method} {route.path}"] = method
        self._build_gateway_responses()
        if config.waf:
            ApiFirewall(self, "Waf", config=config, stage=self.rest_api.deployment_stage)
        if config.domain_name:
            self._build_domain()

    def _build_rest_api(self) -> apigw.RestApi:
        config = self._config
        return apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=config.prefix,
            description=f"Orchestrix API ({config.stage})",
            binary_media_types=list(wiring.BINARY_MEDIA_TYPES),
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-wide role API Gateway logs with: created only when asked (and kept
            # on destroy, since other stages and APIs of the account rely on it).
            cloud_watch_role=config.api_cloudwatch_role,
            cloud_watch_role_removal_policy=(
                cdk.RemovalPolicy.RETAIN if config.api_cloudwatch_role else None
            ),
            disable_execute_api_endpoint=False,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                throttling_rate_limit=config.throttle_rate,
                throttling_burst_limit=config.throttle_burst,
                tracing_enabled=config.tracing,
                method_options=self._method_throttles(),
                **self._access_log_options(),
            ),
        )

    def _method_throttles(self) -> dict[str, apigw.MethodDeploymentOptions]:
        """Public routes anyone may call (status pages) get their own, tighter limits; the
        key is `<resource path>/<METHOD>`, as the stage's MethodSettings name a method."""
        return {
            f"{route.path}/{route.method}": apigw.MethodDeploymentOptions(
                throttling_rate_limit=route.throttle.rate,
                throttling_burst_limit=route.throttle.burst,
            )
            for route in self._routes
            if route.throttle is not None
        }

    def _access_log_options(self) -> dict[str, Any]:
        if self.access_logs is None:
            return {}
        return {
            "access_log_destination": apigw.LogGroupLogDestination(self.access_logs),
            "access_log_format": apigw.AccessLogFormat.json_with_standard_fields(
                caller=False,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=False,
            ),
        }

    def _build_authorizer(self) -> apigw.TokenAuthorizer:
        ttl = self._config.authorizer_cache_seconds
        if ttl is None:
            ttl = wiring.AUTHORIZER_CACHE_SECONDS
        fn = self._functions[wiring.AUTHORIZER_FUNCTION]
        return apigw.TokenAuthorizer(
            self,
            "Authorizer",
            handler=fn,
            identity_source=apigw.IdentitySource.header("Authorization"),
            results_cache_ttl=cdk.Duration.seconds(ttl),
            authorizer_name=f"{self._config.prefix}-authorizer",
        )

    def _integration(self, function_name: str) -> apigw.Integration:
        """One proxy integration and ONE invoke permission per function, not per method:
        a permission per route would outgrow Lambda's 20 KB resource-policy limit."""
        if function_name not in self._integrations:
            fn = self._functions[function_name]
            stack = cdk.Stack.of(self)
            self._integrations[function_name] = apigw.Integration(
                type=apigw.IntegrationType.AWS_PROXY,
                integration_http_method="POST",
                uri=(
                    f"arn:{stack.partition}:apigateway:{stack.region}:lambda:path/2015-03-31"
                    f"/functions/{fn.function_arn}/invocations"
                ),
            )
            fn.add_permission(
                f"ApiInvoke-{cdk.Names.node_unique_id(self.node)}",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=self.rest_api.arn_for_execute_api(stage=self._config.stage),
            )
        return self._integrations[function_name]

    def _build_route(self, route: wiring.Route) -> apigw.Method:
        resource = self.rest_api.root.resource_for_path(route.path)
        if route.auth:
            return resource.add_method(
                route.method,
                self._integration(route.function),
                authorizer=self.authorizer,
                authorization_type=apigw.AuthorizationType.CUSTOM,
            )
        return resource.add_method(
            route.method,
            self._integration(route.function),
            authorization_type=apigw.AuthorizationType.NONE,
        )

    def _build_gateway_responses(self) -> None:
        for response_type, status, title in GATEWAY_ERRORS:
            self.rest_api.add_gateway_response(
                f"Gw{response_type.response_type}",
                type=response_type,
                status_code=str(status),
                response_headers={
                    "Content-Type": f"'{PROBLEM_JSON}'",
                    "X-Request-Id": "context.requestId",
                },
                templates={
                    "application/json": problem_template(status, title),
                    PROBLEM_JSON: problem_template(status, title),
                },
            )

    def _build_domain(self) -> None:
        config = self._config
        self.domain = self.rest_api.add_domain_name(
            "Domain",
            domain_name=config.domain_name,
            certificate=acm.Certificate.from_certificate_arn(
                self, "Certificate", config.certificate_arn
            ),
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
        )
