"""/healthz reports every dependency against the real local stack."""

import pytest

from core.aws import aws_clients_reset
from devstack.services import free_port


@pytest.mark.django_db
def test_healthz_is_public_and_ok_when_everything_is_up(client, aws):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["checks"]) == {"database", "dynamodb", "lambda", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_healthz_names_dynamodb_when_it_is_down(client, aws, settings):
    settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    aws_clients_reset()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["dynamodb"]
    assert "Orders" in body["checks"]["dynamodb"]["error"]


@pytest.mark.django_db
def test_healthz_names_the_lambda_endpoint_when_it_is_down(client, aws, settings):
    settings.LAMBDA_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    aws_clients_reset()
    response = client.get("/healthz")
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
