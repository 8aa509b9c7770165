"""A stage without an IdP: JWTs are refused with 401 (not a 500), and the first admin key
comes from `orchestrix api-key create --stage …`, which invokes the stage's `admin` function
with the caller's AWS credentials (moto Lambda, the real handler run in process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from orchestrix import bootstrap
from orchestrix.adapters.auth.oidc import SignInDisabled
from orchestrix.local import cli, lambda_hook
from orchestrix.local.functions import FunctionHost
from orchestrix.local.stage_admin import admin_function_name
from tests.api.conftest import Client, in_process_aws, token

pytestmark = pytest.mark.xdist_group("moto-sfn")


@pytest.fixture
def stage_admin(client: Client) -> Iterator[None]:
    """The `acme` stage's admin function, deployed in moto, running our handler in process."""
    with in_process_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="admin-fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("lambda", region_name="us-east-1").create_function(
            FunctionName=admin_function_name("acme"),
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": lambda_hook.placeholder_zip()},
        )
        handler = FunctionHost().handler("admin")
        with lambda_hook.installed({admin_function_name("acme"): handler}):
            yield


def create_on_stage(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["api-key", "create", "--stage", "acme", "--region", "us-east-1", *args])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_first_admin_key_from_the_cli_administers_the_stage(
    stage_admin: None, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = f"boot-{uuid.uuid4().hex[:8]}"

    code, secret, err = create_on_stage(capsys, "--tenant", tenant, "--scope", "role:admin")

    assert code == 0, err
    assert secret.startswith("orx_")
    # the key is an admin of its tenant in the management API
    listed = client.get("/api/v1/api-keys", f"Bearer {secret}")
    assert listed.status == 200, listed.json
    assert [k["scopes"] for k in listed.json["items"]] == [["role:admin"]]
    made = client.post("/api/v1/api-keys", f"Bearer {secret}",
                       {"name": "prometheus", "scopes": ["metrics:write"]})  # fmt: skip
    assert made.status == 201, made.json
    # and the creation is audited with the AWS identity that asked for it
    audit = client.get("/api/v1/audit-logs?action=api_key.create", f"Bearer {secret}")
    actors = {e["actor"] for e in audit.json["items"]}
    assert any(a.startswith("operator:arn:aws:") for a in actors), actors


def test_ingestion_key_gets_no_role_in_the_management_api(
    stage_admin: None, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = f"boot-{uuid.uuid4().hex[:8]}"
    code, secret, _ = create_on_stage(capsys, "--tenant", tenant, "--scope", "metrics:write")

    assert code == 0
    assert client.get("/api/v1/api-keys", f"Bearer {secret}").status == 403


@pytest.mark.parametrize("tenant", ["Acme", "a\n", "_x"])
def test_bad_tenant_is_one_clear_line_and_no_key(
    stage_admin: None, capsys: pytest.CaptureFixture[str], tenant: str
) -> None:
    code, out, err = create_on_stage(capsys, "--tenant", tenant, "--scope", "role:admin")

    assert (code, out) == (2, "")
    assert err.startswith("orchestrix: invalid request (tenant: String should match pattern")
    assert "Traceback" not in err


def test_unknown_stage_names_the_function_it_tried(
    stage_admin: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["api-key", "create", "--stage", "nosuch", "--tenant", "t",
                     "--scope", "role:admin", "--region", "us-east-1"])  # fmt: skip
    _, err = capsys.readouterr()

    assert code == 2
    assert err.startswith("orchestrix: cannot invoke orchestrix-nosuch-admin:")


def test_without_an_issuer_a_jwt_is_401_and_keys_still_work(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"noidp-{uuid.uuid4().hex[:8]}"
    made = client.post("/api/v1/api-keys", token(tenant),
                       {"name": "ops", "scopes": ["role:viewer"]})  # fmt: skip
    assert made.status == 201, made.json
    # when the stage has no OIDC issuer configured
    monkeypatch.setattr(bootstrap, "jwt_verifier", lambda: SignInDisabled())
    monkeypatch.setattr(bootstrap.credential_verifier(), "_jwt_verifier", SignInDisabled)

    refused = client.get("/api/v1/api-keys", token(tenant))
    allowed = client.get("/api/v1/api-keys", f"Bearer {made.json['secret']}")

    assert refused.status == 401
    assert refused.content_type.startswith("application/problem+json")
    assert allowed.status == 200
