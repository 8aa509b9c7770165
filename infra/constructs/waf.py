"""Optional AWS WAF web ACL in front of the API stage (`-c waf=true`)."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import StageConfig

RATE_LIMIT_PER_5_MIN = 6000


def _managed(
    name: str, priority: int, *, count_rules: tuple[str, ...] = ()
) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in count_rules
                ]
                or None,
            )
        ),
        visibility_config=_visibility(name),
    )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


class ApiFirewall(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, stage: apigw.Stage
    ) -> None:
        super().__init__(scope, id)
        rate_rule = wafv2.CfnWebACL.RuleProperty(
            name="RatePerIp",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=RATE_LIMIT_PER_5_MIN, aggregate_key_type="IP"
                )
            ),
            visibility_config=_visibility("RatePerIp"),
        )
        acl = wafv2.CfnWebACL(
            self,
            "Acl",
            name=config.prefix,
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(config.prefix),
            rules=[
                rate_rule,
                # Remote write and OTLP bodies are routinely larger than the 8 KB body rule.
                _managed("AWSManagedRulesCommonRuleSet", 1, count_rules=("SizeRestrictions_BODY",)),
                _managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage.stage_arn, web_acl_arn=acl.attr_arn
        )
