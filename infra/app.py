"""CDK entry point: `cdk synth -c stage=<name> [-c profile=production ...]`."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from infra.config import ConfigError, load
from infra.stacks.orchestrix_stack import OrchestrixStack


def main() -> None:
    app = cdk.App()
    try:
        config = load(app.node.try_get_context, dict(os.environ))
    except ConfigError as error:
        # One line, no traceback: the CLI prints it above its own "exited with error".
        print(f"orchestrix: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    OrchestrixStack(app, config)
    app.synth()


if __name__ == "__main__":
    main()
