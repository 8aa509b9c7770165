"""The alerting REST API: alert rules (and rule files), alerts, silences, amtool's API v2."""

import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orchestrix.adapters.http.resolver import handle, new_resolver
from orchestrix.adapters.http.routes import alert_rules, alertmanager_api, alerts, silences
from orchestrix.observability import logger, traced

app = new_resolver([alert_rules.router, alerts.router, silences.router, alertmanager_api.router])
_YAML = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")


def _yaml_import_as_json(event: dict[str, Any]) -> None:
    """`POST /api/v1/alert-rules/import` also takes the rule file itself as YAML."""
    if event.get("httpMethod") != "POST" or not str(event.get("path", "")).endswith("/import"):
        return
    headers = event.get("headers") or {}
    key = next((k for k in headers if k.lower() == "content-type"), None)
    if key and headers[key].split(";")[0].strip().lower() in _YAML and event.get("body"):
        body = event["body"]
        if event.get("isBase64Encoded"):
            import base64

            body = base64.b64decode(body).decode("utf-8", "replace")
            event["isBase64Encoded"] = False
        event["body"] = json.dumps({"content": body})
        headers[key] = "application/json"


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _yaml_import_as_json(event)
    return handle(app, event, context)
