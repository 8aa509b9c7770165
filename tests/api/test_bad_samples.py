"""Bad samples are a 400 naming the field, and refuse the whole request.

Prometheus retries a 5xx forever (stalling every later sample of the sender) and drops a
4xx batch: so a sample the store cannot hold must be a 4xx, and since the sender will
not resend the batch, nothing of it may be half-written either.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.api.conftest import Client, token
from tests.api.test_metrics_api import (
    IMPORT,
    PROBLEM,
    T0,
    basic,
    ingest_key,
    write,
)

YEAR_3000_MS = 32_503_680_000_000
YEAR_1900_MS = -2_208_988_800_000
GOOD = ({"__name__": "good_total", "job": "a"}, [(T0 * 1000, 1.0), (T0 * 1000 + 15_000, 2.0)])


def stored(api: Client, tenant: str, metric: str) -> list[object]:
    reply = api.get(
        f"/api/v1/metrics/series?{urlencode({'match[]': metric, 'start': 0, 'end': 4e9})}",
        token(tenant, "viewer"),
    )
    assert reply.status == 200, reply.body
    return list(reply.json["data"])


@pytest.mark.parametrize(
    "timestamp",
    [YEAR_3000_MS, YEAR_1900_MS, 2**63 - 1, -(2**63), -1],
    ids=["year-3000", "year-1900", "int64-max", "int64-min", "before-1970"],
)
def test_remote_write_with_an_impossible_timestamp_is_400_naming_the_sample(
    api, tenants, timestamp
):
    a, _ = tenants
    key = ingest_key(api, a)
    series = [GOOD, ({"__name__": "bad"}, [(T0 * 1000, 1.0), (timestamp, 2.0)])]

    reply = write(api, key, series)

    assert reply.status == 400, reply.body
    assert reply.content_type == PROBLEM
    assert reply.json["detail"].startswith("timeseries[1].samples[1].timestamp: ")
    assert reply.json["errors"][0]["loc"] == ["timeseries", 1, "samples", 1, "timestamp"]
    assert stored(api, a, "good_total") == [], "the good series of a refused batch was stored"


def test_a_sample_ten_minutes_ahead_is_accepted_and_one_beyond_is_refused(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a)
    from orchestrix import bootstrap

    now_ms = int(bootstrap.clock().now().timestamp() * 1000)

    soon = write(api, key, [({"__name__": "soon"}, [(now_ms + 9 * 60_000, 1.0)])])
    later = write(api, key, [({"__name__": "later"}, [(now_ms + 11 * 60_000, 1.0)])])

    assert soon.status == 204
    assert later.status == 400
    assert later.json["errors"][0]["loc"] == ["timeseries", 0, "samples", 0, "timestamp"]


def test_nul_in_a_label_value_is_400_naming_the_series_and_stores_nothing(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a)

    reply = write(api, key, [GOOD, ({"__name__": "bad", "path": "/a\x00b"}, [(T0 * 1000, 1.0)])])

    assert reply.status == 400
    assert reply.content_type == PROBLEM
    assert reply.json["detail"] == 'timeseries[1]: value of label "path" contains a NUL character'
    assert reply.json["errors"][0]["loc"] == ["timeseries", 1, "labels"]
    assert stored(api, a, "good_total") == []


def test_nul_in_metadata_help_is_400_naming_it(api, tenants):
    from orchestrix.adapters.metrics import MetricMetadata, encode_write_request
    from tests.api.test_metrics_api import PROTOBUF, WRITE

    key = ingest_key(api, tenants[0])
    body = encode_write_request([GOOD], metadata=[MetricMetadata("good_total", "counter", "a\x00")])

    reply = api.post(WRITE, basic(key), raw=body, headers=PROTOBUF)

    assert reply.status == 400
    assert reply.json["errors"][0]["loc"] == ["metadata", 0, "help"]


@pytest.mark.parametrize(
    ("content_type", "bad_line"),
    [
        ("text/plain", f"bad 1 {YEAR_3000_MS}"),
        ("text/plain", f"bad 1 {YEAR_1900_MS}"),
        ("text/plain", f"bad 1 {2**63 - 1}"),
        ("text/plain", "bad 1 99999999999999999999999999999"),
        ("text/plain", 'bad{path="a\x00b"} 1'),
        ("text/plain", "# HELP bad a\x00b"),
        ("application/openmetrics-text", "bad 1 1e300"),
        ("application/openmetrics-text", "bad 1 -2208988800"),
    ],
)
def test_import_with_a_bad_line_is_400_naming_it_and_stores_nothing(
    api, tenants, content_type, bad_line
):
    a, _ = tenants
    key = ingest_key(api, a)
    body = f"good_total 1 {T0}\n{bad_line}\n"
    if content_type.startswith("application/openmetrics"):
        body += "# EOF\n"

    reply = api.post(IMPORT, basic(key), raw=body.encode(), headers={"Content-Type": content_type})

    assert reply.status == 400, reply.body
    assert reply.content_type == PROBLEM
    assert reply.json["detail"].startswith("line 2: ")
    assert reply.json["errors"][0]["loc"] == ["body", "line", 2]
    assert stored(api, a, "good_total") == []
