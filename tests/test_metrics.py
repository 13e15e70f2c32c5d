"""GET /metrics: Prometheus text that prometheus-client's own parser reads, with the figures kb promises."""

import pytest
from falcon import testing
from prometheus_client.parser import text_string_to_metric_families

from kb.config import Config
from kb.indexer import build
from kb.web import create_app

from .conftest import copy_all_articles


def scrape(text):
    """``{(sample name, frozenset(labels)): value}`` of a /metrics body."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def client(tmp_path):
    articles, index = copy_all_articles(tmp_path / "articles"), tmp_path / "index"
    assert build(articles, index).ok
    return testing.TestClient(create_app(Config(articles_dir=articles, index_dir=index)))


def test_metrics_parse_and_count_what_happened(client):
    before = scrape(client.simulate_get("/metrics").text)
    client.simulate_get("/search", params={"q": "miscarriage"})
    client.simulate_get("/search", params={"q": "miscarriage"})  # from the result cache
    client.simulate_get("/search", params={"q": "zzqqxxnothing"})
    client.simulate_get("/search", params={"q": "ivf", "limit": "0"})
    client.simulate_get("/articles/no-such-article")
    resp = client.simulate_get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    after = scrape(resp.text)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("kb_http_requests_total", route="/search", status="200") == 3
    assert delta("kb_http_requests_total", route="/search", status="400") == 1
    assert delta("kb_http_requests_total", route="/articles/{slug}", status="404") == 1
    assert delta("kb_http_request_duration_seconds_count", route="/search") == 4
    assert delta("kb_search_results_count") == 3
    assert delta("kb_search_zero_results_total") == 1
    assert delta("kb_search_results_bucket", le="0.0") == 1
    assert delta("kb_result_cache_lookups_total", result="hit") == 1
    assert delta("kb_result_cache_lookups_total", result="miss") == 2


def test_metrics_describe_the_generation(client, tmp_path):
    samples = scrape(client.simulate_get("/metrics").text)
    health = client.simulate_get("/health").json
    assert value(samples, "kb_generation_info", generation=health["generation"]) == 1
    assert 0 <= value(samples, "kb_generation_age_seconds") < 24 * 3600
    assert value(samples, "kb_build_duration_seconds") > 0
    assert value(samples, "kb_build_problems") == health["problems"]
    assert value(samples, "kb_generation_documents") == health["documents"]
    assert client.simulate_get("/metrics").headers["cache-control"] == "no-store"


def test_no_query_text_in_metrics(client):
    client.simulate_get("/search", params={"q": "secretdiagnosisword"})
    client.simulate_get("/articles/secretslug")
    text = client.simulate_get("/metrics").text
    assert "secretdiagnosisword" not in text and "secretslug" not in text
