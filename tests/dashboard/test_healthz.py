"""/healthz against the real local stack: the state for anyone (cached), the full report for operators,
admins and the metrics token."""

import pytest
from django.core.cache import cache

from core.aws import aws_clients_reset
from core.counters import API_CALLS, counter_total
from dashboard.health import CHECK_SLOT_KEY, STATE_KEY
from devstack.services import free_port

PING = "list_durable_executions_by_function"


@pytest.fixture(autouse=True)
def fresh_health_cache(db):
    cache.delete_many([CHECK_SLOT_KEY, STATE_KEY])
    yield
    cache.delete_many([CHECK_SLOT_KEY, STATE_KEY])


@pytest.mark.django_db
def test_healthz_full_report_for_an_operator(operator_client, aws):
    response = operator_client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["checks"]) == {"database", "dynamodb", "lambda", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_healthz_full_report_with_the_metrics_token(client, aws, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    response = client.get("/healthz", headers={"Authorization": "Bearer scrape-secret"})
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "dynamodb", "lambda", "broker"}
    wrong = client.get("/healthz", headers={"Authorization": "Bearer guess"})
    assert set(wrong.json()) == {"status"}


@pytest.mark.django_db
def test_anonymous_healthz_is_the_cached_state_only_and_spends_one_lambda_call(client, aws, settings):
    settings.HEALTH_CACHE_SECONDS = 60
    before = counter_total(API_CALLS, operation=PING)
    answers = [client.get("/healthz") for _ in range(50)]
    assert {response.status_code for response in answers} == {200}
    assert all(response.json() == {"status": "ok"} for response in answers)
    assert counter_total(API_CALLS, operation=PING) - before <= 1


@pytest.mark.django_db
def test_anonymous_healthz_rechecks_after_the_cache_window(client, aws, settings):
    client.get("/healthz")
    settings.LAMBDA_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    aws_clients_reset()
    assert client.get("/healthz").status_code == 200  # still the cached state
    cache.delete(CHECK_SLOT_KEY)  # the window is over
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}  # no dependency names, no error text


@pytest.mark.django_db
def test_healthz_names_dynamodb_when_it_is_down(operator_client, aws, settings):
    settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    aws_clients_reset()
    response = operator_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["dynamodb"]
    assert "Orders" in body["checks"]["dynamodb"]["error"]


@pytest.mark.django_db
def test_healthz_names_the_lambda_endpoint_when_it_is_down(operator_client, aws, settings):
    settings.LAMBDA_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    aws_clients_reset()
    response = operator_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["lambda"]


@pytest.mark.django_db
def test_pages_require_login(client):
    response = client.get("/approvals/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_expired_session_on_an_htmx_poll_sends_the_whole_page_to_login(client):
    response = client.get(
        "/approvals/", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/approvals/?q=acme"}
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fapprovals%2F%3Fq%3Dacme"
