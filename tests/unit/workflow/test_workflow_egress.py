from __future__ import annotations

from collections.abc import Sequence

import pytest

from orchestrix.domain.egress import EgressDenied, EgressPolicy, EgressUnresolvable


def dns(table: dict[str, Sequence[str]]) -> EgressPolicy:
    return EgressPolicy(resolver=lambda host: table.get(host, []))


def refused(policy: EgressPolicy, url: str) -> str:
    with pytest.raises(EgressDenied) as caught:
        policy.check_url(url)
    return caught.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
    ],
)
def test_link_local_is_refused_even_when_private_and_loopback_are_allowed(url: str) -> None:
    policy = EgressPolicy(allow_loopback=True, allow_private=True)

    assert "link-local" in refused(policy, url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/", "http://[::1]/", "http://10.0.0.5/", "http://192.168.1.1/",
            "http://172.16.3.4/", "http://100.64.0.1/", "http://0.0.0.0/"]
)  # fmt: skip
def test_default_policy_refuses_loopback_and_private_targets(url: str) -> None:
    assert refused(EgressPolicy(), url)


def test_name_is_checked_after_resolution_and_every_address_must_pass() -> None:
    policy = dns({"sneaky.example": ["93.184.216.34", "10.1.2.3"], "ok.example": ["93.184.216.34"]})

    assert refused(policy, "https://sneaky.example/") == (
        "sneaky.example (10.1.2.3) is a private or reserved address"
    )
    policy.check_url("https://ok.example/hook")


def test_local_mode_allows_loopback_but_not_private() -> None:
    local = EgressPolicy.for_stage(local=True, resolver=lambda host: ["127.0.0.1"])

    local.check_url("http://localhost:9000/health")
    assert refused(local, "http://10.0.0.1/")


def test_allow_list_admits_cidrs_and_host_names() -> None:
    policy = EgressPolicy(
        allow=["10.20.0.0/16", "*.corp.example", "metrics.internal"],
        resolver=lambda host: {"a.corp.example": ["10.9.9.9"], "metrics.internal": ["10.1.1.1"],
                               "other.internal": ["10.1.1.1"]}[host],
    )  # fmt: skip

    policy.check_url("http://10.20.3.4/")
    policy.check_url("https://a.corp.example/")
    policy.check_url("https://metrics.internal/")
    assert refused(policy, "https://other.internal/")


def test_allow_listed_name_still_cannot_reach_link_local() -> None:
    policy = EgressPolicy(allow=["evil.example"], resolver=lambda host: ["169.254.169.254"])

    assert "link-local" in refused(policy, "http://evil.example/")


@pytest.mark.parametrize(
    ("url", "needle"),
    [("file:///etc/passwd", "scheme 'file'"), ("gopher://x/", "scheme"), ("http:///x", "no host"),
     ("http://example.com:99999/", "malformed")],
)  # fmt: skip
def test_only_well_formed_http_urls_pass(url: str, needle: str) -> None:
    assert needle in refused(dns({}), url)


def test_unresolvable_host_is_its_own_refusal() -> None:
    with pytest.raises(EgressUnresolvable):
        dns({}).check_url("https://nowhere.example/")


def test_vet_returns_the_addresses_to_connect_to() -> None:
    target = dns({"svc.example": ["93.184.216.34"]}).vet("https://svc.example/x")

    assert (target.host, target.port, [str(a) for a in target.addresses]) == (
        "svc.example", 443, ["93.184.216.34"]
    )  # fmt: skip


# --- Orchestrix's own local endpoints (the AWS emulator on 4566, the API on 8080 here) ------
def local_stage(**kwargs: object) -> EgressPolicy:
    return EgressPolicy.for_stage(
        local=True,
        own_endpoints=("http://127.0.0.1:4566", "http://127.0.0.1:8080", None),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4566/2015-03-31/functions/api/invocations",
        "http://127.0.0.1:8080/_local/tick",
        "http://localhost:4566/",  # a name resolving to loopback (system resolver)
        "http://0.0.0.0:4566/",  # connects to this host
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]:4566/",
        "http://[::]:4566/",
        "http://2130706433:4566/",  # 127.0.0.1 as one decimal number
        "http://0x7f000001:8080/",
        "http://127.1:4566/",
        "http://127.0.0.2:8080/",
    ],
)
def test_local_stage_refuses_orchestrix_own_ports_on_every_local_address(url: str) -> None:
    assert "is an Orchestrix service" in refused(local_stage(), url)


def test_own_ports_are_refused_even_when_allow_listed() -> None:
    policy = local_stage(allow=("127.0.0.0/8", "0.0.0.0/0", "localhost"))

    assert "is an Orchestrix service" in refused(policy, "http://localhost:4566/")
    assert "is an Orchestrix service" in refused(policy, "http://127.0.0.1:8080/_local/tick")


def test_dns_name_pointing_at_the_emulator_is_refused() -> None:
    policy = EgressPolicy.for_stage(
        local=True,
        own_endpoints=("http://127.0.0.1:4566",),
        resolver=lambda host: ["93.184.216.34", "127.0.0.1"],
    )

    assert refused(policy, "http://rebind.example:4566/") == (
        "rebind.example (127.0.0.1) port 4566 is an Orchestrix service; it is refused"
    )


def test_loopback_on_other_ports_still_passes_in_local_mode() -> None:
    policy = local_stage()

    target = policy.vet("http://127.0.0.1:9000/hook")
    assert (target.port, [str(a) for a in target.addresses]) == (9000, ["127.0.0.1"])
    policy.check_url("http://localhost:4567/")


def test_local_postgres_of_database_url_is_an_own_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's TCP PostgreSQL holds every tenant's rows: tenants' URLs may not reach it.
    from orchestrix import bootstrap
    from orchestrix.settings import Settings

    settings = Settings.from_env(
        {"ORCHESTRIX_LOCAL": "1", "DATABASE_URL": "postgresql://app:pw@127.0.0.1:6543/orx"}
    )
    monkeypatch.setattr(bootstrap, "settings", lambda: settings)

    assert "is an Orchestrix service" in refused(
        bootstrap.egress_policy(), "http://127.0.0.1:6543/"
    )
    assert bootstrap.egress_policy().vet("http://127.0.0.1:9000/").port == 9000
