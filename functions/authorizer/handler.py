"""API Gateway TOKEN authorizer: OIDC JWTs and `orx_` ingestion keys.

The policy allows every route of the stage (`…/<stage>/*/*`) because API Gateway caches it
per token; what a principal may do is decided by the handlers from the context below.
"""

from typing import Any

from orchestrix import bootstrap
from orchestrix.domain.errors import Unauthorized
from orchestrix.observability import logger


def _stage_wildcard(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> .../stage/*/*
    prefix, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{prefix}/{stage}/*/*"


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        principal = bootstrap.credential_verifier().verify(event.get("authorizationToken"))
    except Unauthorized as exc:
        logger.info("rejected credentials", extra={"reason": exc.detail})
        # The exact message makes API Gateway answer 401 (a Deny policy would be 403).
        raise Exception("Unauthorized") from None  # noqa: TRY002
    return {
        "principalId": principal.subject,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _stage_wildcard(str(event.get("methodArn", ""))),
                }
            ],
        },
        "context": {
            "tenant_id": principal.tenant_id,
            "subject": principal.subject,
            "roles": ",".join(sorted(r.value for r in principal.roles)),
            "scopes": ",".join(sorted(s.value for s in principal.scopes)),
            "principal_type": principal.kind,
        },
    }
