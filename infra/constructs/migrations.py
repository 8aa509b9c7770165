"""Runs the `migrate` function on deploy: after the database and proxy exist, before the API
deployment goes live. CloudFormation re-runs a trigger only when its properties change, so
the trigger carries a hash of the migrations folder and of the layer (the migration code)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import triggers
from constructs import Construct

from infra.constructs.layer import REPO_ROOT, source_hash

MIGRATIONS_DIR = Path("layers/orchestrix/adapters/postgres/migrations")


def migrations_hash(repo_root: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256(source_hash(repo_root).encode())
    folder = repo_root / MIGRATIONS_DIR
    for path in sorted(folder.glob("*.sql")) if folder.is_dir() else []:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Migrations(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        handler: lambda_.Function,
        execute_after: Sequence[Construct],
        execute_before: Sequence[Construct],
        repo_root: Path = REPO_ROOT,
    ) -> None:
        super().__init__(scope, id)
        self.trigger = triggers.Trigger(
            self,
            "Trigger",
            handler=handler,
            execute_after=list(execute_after),
            execute_before=list(execute_before),
            execute_on_handler_change=False,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            timeout=cdk.Duration.seconds(handler.timeout.to_seconds() if handler.timeout else 300),
        )
        self.hash = migrations_hash(repo_root)
        resource = self.trigger.node.default_child
        assert isinstance(resource, cdk.CustomResource)
        cfn = resource.node.default_child
        assert isinstance(cfn, cdk.CfnResource)
        cfn.add_property_override("MigrationsHash", self.hash)
