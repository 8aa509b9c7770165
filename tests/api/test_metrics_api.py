"""Metrics through the gateway: remote write in, the Prometheus query API out."""

from __future__ import annotations

import base64
from urllib.parse import quote, urlencode

import pytest

from orchestrix.adapters.metrics import encode_write_request
from tests.api.conftest import Client, token

PROBLEM = "application/problem+json"
WRITE = "/api/v1/metrics/write"
IMPORT = "/api/v1/metrics/import"
API = "/api/v1/metrics"
GRAFANA_API = "/prometheus/api/v1"
T0 = 1_790_000_000  # seconds
PROTOBUF = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}


def ingest_key(api: Client, tenant: str, scopes: tuple[str, ...] = ("metrics:write",)) -> str:
    created = api.post("/api/v1/api-keys", token(tenant), {"name": "prom", "scopes": scopes})
    assert created.status == 201, created.body
    return str(created.json["secret"])


def basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"prometheus:{secret}".encode()).decode()


def write(api: Client, key: str, series, **kw):  # type: ignore[no-untyped-def]
    body = encode_write_request(series, **kw)
    return api.post(WRITE, basic(key), raw=body, headers=PROTOBUF)


def requests_series(t: int = T0, n: int = 5):  # type: ignore[no-untyped-def]
    """Two counters growing by 1/s (GET) and 2/s (POST), scraped every 15 s."""
    return [
        (
            {"__name__": "http_requests_total", "job": "api", "method": method},
            [((t + i * 15) * 1000, float(i * 15 * rate)) for i in range(n)],
        )
        for rate, method in ((1, "GET"), (2, "POST"))
    ]


def query(api: Client, tenant: str, q: str, at: float, prefix: str = API):  # type: ignore[no-untyped-def]
    return api.get(f"{prefix}/query?{urlencode({'query': q, 'time': at})}", token(tenant, "viewer"))


def test_remote_write_is_204_and_the_samples_are_queryable(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a)

    written = write(api, key, requests_series())
    reply = query(api, a, 'http_requests_total{method="POST"}', T0 + 60)

    assert written.status == 204
    assert written.body == b""
    assert reply.status == 200
    assert reply.json == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {
                    "metric": {"__name__": "http_requests_total", "job": "api", "method": "POST"},
                    "value": [T0 + 60, "120"],
                }
            ],
        },
    }


def test_resending_the_same_batch_does_not_duplicate_samples(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a)

    assert write(api, key, requests_series()).status == 204
    assert write(api, key, requests_series()).status == 204
    reply = query(api, a, "count_over_time(http_requests_total[5m])", T0 + 60)

    assert [s["value"][1] for s in reply.json["data"]["result"]] == ["5", "5"]


def test_bearer_key_works_like_basic(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a)
    body = encode_write_request(requests_series())

    reply = api.post(WRITE, f"Bearer {key}", raw=body, headers=PROTOBUF)

    assert reply.status == 204


def test_undecodable_body_is_400_problem(api, tenants):
    key = ingest_key(api, tenants[0])

    reply = api.post(WRITE, basic(key), raw=b"\x00not snappy", headers=PROTOBUF)

    assert reply.status == 400
    assert reply.content_type == PROBLEM
    assert "snappy" in reply.json["detail"]


def test_series_without_metric_name_is_400_naming_the_series(api, tenants):
    key = ingest_key(api, tenants[0])

    reply = write(api, key, [({"job": "x"}, [(T0 * 1000, 1.0)])])

    assert reply.status == 400
    assert reply.json["detail"].startswith("timeseries[0]: ")
    assert reply.json["errors"][0]["loc"] == ["timeseries", 0, "labels"]


def test_body_announcing_a_huge_decompressed_size_is_413(api, tenants):
    key = ingest_key(api, tenants[0])
    # A snappy block starts with its uncompressed length as a varint: here 1 GiB.
    huge = bytes([0x80, 0x80, 0x80, 0x80, 0x04]) + b"\x00" * 16

    reply = api.post(WRITE, basic(key), raw=huge, headers=PROTOBUF)

    assert reply.status == 413
    assert reply.content_type == PROBLEM


def test_remote_write_2_is_415(api, tenants):
    key = ingest_key(api, tenants[0])
    headers = {
        **PROTOBUF,
        "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    }

    reply = api.post(WRITE, basic(key), raw=encode_write_request([]), headers=headers)

    assert reply.status == 415


def test_key_without_metrics_scope_and_user_token_cannot_write(api, tenants):
    a, _ = tenants
    alerts_key = ingest_key(api, a, ("alerts:write",))
    body = encode_write_request(requests_series())

    by_key = api.post(WRITE, basic(alerts_key), raw=body, headers=PROTOBUF)
    by_user = api.post(WRITE, token(a), raw=body, headers=PROTOBUF)

    assert (by_key.status, by_user.status) == (403, 403)
    assert "metrics:write" in by_key.json["detail"]


def test_caller_without_the_scope_is_refused_before_the_body_is_read(api, tenants):
    # A malformed body from someone who may not write is a 403, not a 400 about the body.
    a, _ = tenants
    alerts_key = ingest_key(api, a, ("alerts:write",))

    garbage = api.post(WRITE, basic(alerts_key), raw=b"not snappy", headers=PROTOBUF)
    bad_import = api.post(IMPORT, token(a), raw=b"m 1 32503680000000\n",
                          headers={"Content-Type": "text/plain"})  # fmt: skip

    assert (garbage.status, bad_import.status) == (403, 403)


def test_import_takes_the_text_format_with_timestamps(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a)
    text = (
        "# TYPE queue_depth gauge\n"
        "# HELP queue_depth Jobs waiting.\n"
        f'queue_depth{{queue="mail"}} 7 {T0 * 1000}\n'
    )

    reply = api.post(IMPORT, basic(key), raw=text.encode(), headers={"Content-Type": "text/plain"})
    value = query(api, a, "queue_depth", T0)
    meta = api.get(f"{API}/metadata", token(a, "viewer"))

    assert reply.status == 204
    assert value.json["data"]["result"][0]["value"] == [T0, "7"]
    assert meta.json["data"]["queue_depth"] == [
        {"type": "gauge", "help": "Jobs waiting.", "unit": ""}
    ]


def test_bad_import_line_is_400_naming_the_line(api, tenants):
    key = ingest_key(api, tenants[0])

    reply = api.post(
        IMPORT, basic(key), raw=b"ok 1\nbad{ 2\n", headers={"Content-Type": "text/plain"}
    )

    assert reply.status == 400
    assert "line 2" in reply.json["detail"]


def test_tenant_b_sees_nothing_of_tenant_a(api, tenants):
    a, b = tenants
    write(api, ingest_key(api, a), requests_series())
    write(api, ingest_key(api, b), [({"__name__": "b_only", "job": "b"}, [(T0 * 1000, 1.0)])])
    viewer_b = token(b, "viewer")

    result = query(api, b, "http_requests_total", T0 + 60).json["data"]["result"]
    names = api.get(f"{API}/labels", viewer_b).json["data"]
    values = api.get(f"{API}/label/__name__/values", viewer_b).json["data"]
    any_job = quote('{job=~".+"}')
    series = api.get(f"{API}/series?match[]={any_job}", viewer_b).json["data"]

    assert result == []
    assert names == ["__name__", "job"]
    assert values == ["b_only"]
    assert series == [{"__name__": "b_only", "job": "b"}]


def test_query_range_has_prometheus_matrix_shape(api, tenants):
    a, _ = tenants
    write(api, ingest_key(api, a), requests_series(n=9))
    params = {"query": 'sum by (job) (rate(http_requests_total[1m]))', "start": T0 + 60,
              "end": T0 + 120, "step": "30s"}  # fmt: skip

    reply = api.get(f"{GRAFANA_API}/query_range?{urlencode(params)}", token(a, "viewer"))

    assert reply.status == 200
    data = reply.json["data"]
    assert data["resultType"] == "matrix"
    assert [s["metric"] for s in data["result"]] == [{"job": "api"}]
    points = data["result"][0]["values"]
    assert [t for t, _ in points] == [T0 + 60, T0 + 90, T0 + 120]
    assert all(isinstance(v, str) and float(v) == pytest.approx(3.0) for _, v in points)


def test_query_accepts_post_form_and_rfc3339_time(api, tenants):
    a, _ = tenants
    write(api, ingest_key(api, a), requests_series())
    form = urlencode({"query": "http_requests_total", "time": "2026-09-21T14:13:20Z"})

    reply = api.post(
        f"{GRAFANA_API}/query",
        token(a, "viewer"),
        raw=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert reply.status == 200
    assert len(reply.json["data"]["result"]) == 2
    assert reply.json["data"]["result"][0]["value"][0] == T0


def test_a_post_form_that_is_not_utf8_is_bad_data_not_a_server_error(api, tenants):
    a, _ = tenants

    reply = api.post(
        f"{GRAFANA_API}/query",
        token(a, "viewer"),
        raw=b"query=up\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert reply.status == 400, reply.body
    assert reply.json["errorType"] == "bad_data"
    assert 'invalid parameter "query"' in reply.json["error"]


@pytest.mark.parametrize(
    ("path", "status", "error_type", "message"),
    [
        ("/query?query=sum(", 400, "bad_data", "parse error"),
        ("/query?query=up&time=yesterday", 400, "bad_data",
         'invalid parameter "time": cannot parse "yesterday" to a valid timestamp'),
        ("/query_range?query=up&start=10&end=5&step=1", 400, "bad_data",
         "end timestamp must not be before start time"),
        ("/query_range?query=up&start=0&end=100000&step=1", 400, "bad_data",
         "exceeded maximum resolution of 11,000 points"),
        ("/query_range?query=up&start=0&end=10&step=0", 400, "bad_data",
         "zero or negative query resolution step"),
        ("/series", 400, "bad_data", "no match[] parameter provided"),
        ("/label/1bad/values", 400, "bad_data", 'invalid label name: "1bad"'),
    ],
)  # fmt: skip
def test_bad_queries_answer_in_prometheus_error_shape(
    api, tenants, path, status, error_type, message
):  # type: ignore[no-untyped-def]
    reply = api.get(f"{API}{path}", token(tenants[0], "viewer"))

    assert reply.status == status
    assert reply.content_type == "application/json"
    assert reply.json["status"] == "error"
    assert reply.json["errorType"] == error_type
    assert message in reply.json["error"]


def test_many_to_many_matching_is_a_422_execution_error(api, tenants):
    a, _ = tenants
    write(api, ingest_key(api, a), requests_series())

    reply = query(api, a, "http_requests_total + on(job) http_requests_total", T0 + 60)

    assert reply.status == 422
    assert reply.json["errorType"] == "execution"


def test_ingestion_key_cannot_read_metrics(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a)

    reply = api.get(f"{API}/query?query=up", basic(key))

    assert reply.status == 403
    assert reply.json["status"] == "error"


def test_range_of_labels_and_series_respects_match_and_time(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a)
    write(api, key, requests_series())
    write(api, key, [({"__name__": "up", "job": "node", "zone": "eu"}, [(T0 * 1000, 1.0)])])
    viewer = token(a, "viewer")
    match = quote('up{job="node"}')

    names = api.get(f"{API}/labels?match[]={match}", viewer).json["data"]
    jobs = api.get(f"{API}/label/job/values", viewer).json["data"]
    later = api.get(f"{API}/label/job/values?start={T0 + 86400 * 3}", viewer).json["data"]

    assert names == ["__name__", "job", "zone"]
    assert jobs == ["api", "node"]
    assert later == []


@pytest.mark.parametrize("prefix", [API, GRAFANA_API])
def test_url_encoded_label_name_in_the_path_is_decoded_as_api_gateway_does(api, tenants, prefix):
    a, _ = tenants
    write(api, ingest_key(api, a), requests_series())
    viewer = token(a, "viewer")

    encoded = api.get(f"{prefix}/label/%5F%5Fname%5F%5F/values", viewer)
    slash = api.get(f"{prefix}/label/a%2Fb/values", viewer)

    assert encoded.status == 200, encoded.body
    assert encoded.json["data"] == ["http_requests_total"]
    assert slash.status == 400  # one segment, decoded to an invalid label name "a/b"
    assert slash.json["error"] == 'invalid label name: "a/b"'


@pytest.mark.parametrize("limit", ["1198130581225647112192", "1_000", "x", "1&limit=2"])
def test_metadata_limit_that_is_no_int64_is_bad_data_not_a_500(api, tenants, limit):
    reply = api.get(f"{GRAFANA_API}/metadata?limit={limit}", token(tenants[0], "viewer"))

    assert reply.status == 400, reply.body
    assert reply.json["errorType"] == "bad_data"


@pytest.mark.parametrize(
    "path_and_query",
    [
        "/query?query=" + quote('up{a="\x00"}'),
        "/series?match[]=" + quote('up{a="\x00"}'),
        "/labels?match[]=" + quote('up{a="\x00"}'),
        "/label/job/values?match[]=" + quote('up{a="\x00"}'),
        "/metadata?metric=a%00",
    ],
)
def test_nul_in_any_query_parameter_is_bad_data_not_a_500(api, tenants, path_and_query):
    reply = api.get(API + path_and_query, token(tenants[0], "viewer"))

    assert reply.status == 400, reply.body
    assert reply.json["errorType"] == "bad_data"
    assert "NUL characters are not allowed" in reply.json["error"]


def test_nul_in_a_form_body_is_bad_data(api, tenants):
    reply = api.post(
        f"{GRAFANA_API}/series",
        token(tenants[0], "viewer"),
        raw=b"match%5B%5D=up%7Ba%3D%22%00%22%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert reply.status == 400
    assert reply.json["errorType"] == "bad_data"
