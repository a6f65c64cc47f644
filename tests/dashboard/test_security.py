"""Sign-in throttling (django-axes), sessions, the page banners and the Content-Security-Policy."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client

from core.middleware import SESSION_ACTIVE_KEY, SESSION_STARTED_KEY

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
POLL = {"HX-Request": "true", "X-Console-Poll": "1"}


def _sign_in(client, username, password, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


# --- brute force -------------------------------------------------------------------


@pytest.mark.django_db
def test_five_bad_passwords_lock_the_username_with_a_page_that_says_when(client, approver):
    for _ in range(4):
        assert _sign_in(client, "approver", "wrong").status_code == 200  # the form again, with its error
    locked = _sign_in(client, "approver", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Sign-in locked" in page and "Try again at" in page and "approver" in page
    assert int(locked["Retry-After"]) > 14 * 60
    # Even the right password is refused until the cool-off is over.
    assert _sign_in(client, "approver", "pw-approver").status_code == 429


@pytest.mark.django_db
def test_one_users_lockout_does_not_lock_out_the_address(client, approver, operator):
    for _ in range(6):
        _sign_in(client, "approver", "wrong")
    colleague = Client()  # same address (127.0.0.1), another person
    response = _sign_in(colleague, "operator", "pw-operator")
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.django_db
def test_an_address_trying_many_usernames_is_locked(client, operator, settings):
    settings.AXES_ADDRESS_USERNAME_LIMIT = 5
    for name in ("alice", "bob", "carol", "dave", "erin"):
        _sign_in(client, name, "guess")
    assert _sign_in(Client(), "operator", "pw-operator").status_code == 429


@pytest.mark.django_db
def test_after_the_cool_off_the_user_may_sign_in_again(client, approver, settings):
    for _ in range(5):
        _sign_in(client, "approver", "wrong")
    assert _sign_in(client, "approver", "pw-approver").status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    response = _sign_in(client, "approver", "pw-approver")
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    for _ in range(5):
        _sign_in(client, "admin", "wrong", path="/admin/login/")
    locked = _sign_in(client, "admin", "pw-admin", path="/admin/login/")
    assert locked.status_code == 429 and "Try again at" in locked.content.decode()
    assert _sign_in(Client(), "admin", "pw-admin").status_code == 429  # the same lock on the console's login


def test_throttling_settings():
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == django_settings.AXES_COOLOFF_TIME
    assert django_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


# --- sessions ----------------------------------------------------------------------


def test_session_lifetimes_and_all_four_password_validators():
    assert django_settings.SESSION_COOKIE_AGE == 8 * 3600
    assert django_settings.SESSION_IDLE_SECONDS == 3600
    names = {validator["NAME"].rsplit(".", 1)[-1] for validator in django_settings.AUTH_PASSWORD_VALIDATORS}
    assert names == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


def _age_session(client, *, idle: float, since_sign_in: float | None = None):
    session = client.session
    now = time.time()
    session[SESSION_STARTED_KEY] = now - (since_sign_in if since_sign_in is not None else idle)
    session[SESSION_ACTIVE_KEY] = now - idle
    session.save()


@pytest.mark.django_db
def test_an_idle_session_is_signed_out(operator_client):
    assert operator_client.get("/executions/actions/").status_code == 200
    _age_session(operator_client, idle=3601)
    response = operator_client.get("/executions/actions/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_auto_refresh_polls_are_not_activity(operator_client):
    _age_session(operator_client, idle=3000)
    for _ in range(3):
        assert operator_client.get("/executions/actions/", headers=POLL).status_code == 200
    assert time.time() - operator_client.session[SESSION_ACTIVE_KEY] >= 3000  # polls left it alone
    assert operator_client.get("/executions/actions/").status_code == 200  # a click is activity
    assert time.time() - operator_client.session[SESSION_ACTIVE_KEY] < 60
    _age_session(operator_client, idle=3601)
    response = operator_client.get("/executions/actions/", headers=POLL)
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_session_ends_eight_hours_after_sign_in_even_when_active(operator_client):
    _age_session(operator_client, idle=10, since_sign_in=8 * 3600 + 1)
    assert operator_client.get("/executions/actions/").status_code == 302


# --- banners -----------------------------------------------------------------------


@pytest.mark.django_db
def test_read_only_is_said_on_every_page(operator_client, approver, settings):
    settings.READ_ONLY = True
    for path in ("/", "/executions/actions/", "/approvals/decisions/"):
        assert "Read-only mode" in operator_client.get(path).content.decode(), path
    assert "Read-only mode" in Client().get("/accounts/login/").content.decode()
    settings.READ_ONLY = False
    assert "Read-only mode" not in operator_client.get("/executions/actions/").content.decode()


@pytest.mark.django_db
def test_local_mode_on_a_real_aws_account_says_so(operator_client, settings):
    settings.LOCAL_MODE = True
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:8100"
    settings.LAMBDA_ENDPOINT_URL = "http://127.0.0.1:3001"
    assert "real AWS account" not in operator_client.get("/executions/actions/").content.decode()
    settings.LAMBDA_ENDPOINT_URL = None
    page = operator_client.get("/executions/actions/").content.decode()
    assert "Local mode on a real AWS account" in page and "Lambda has no local endpoint" in page
    settings.LOCAL_MODE = False  # production talks to AWS on purpose
    assert "real AWS account" not in operator_client.get("/executions/actions/").content.decode()


# --- Content-Security-Policy -------------------------------------------------------


@pytest.mark.django_db
def test_every_page_sends_a_strict_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


def test_templates_have_no_inline_script():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        if inline_script.search(text) or handler.search(text):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []
