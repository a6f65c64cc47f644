"""Shared fixtures: the real local stack, users in each role, a headless browser."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from django.conf import settings as django_settings

from core.aws import aws_clients_reset
from core.roles import ADMINS, APPROVERS, OPERATORS
from tests.localstack import TEST_REGION, local_stack_start, push_env
from tests.receivers import http_receiver_running
from tests.workflows.registry import TEST_FUNCTIONS

# The `production` marker (PostgreSQL + Redis): skipped with a reason under `make test`.
pytest_plugins = ["tests.production.plugin"]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A test that opens headless Chromium (the `browser` fixture, or `browser_login` on it) is a browser test,
    marked or not: `-m "not browser"` leaves every one of them out (make test-production does)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def push_receiver():
    """Where the session stack's functions report (push plugin) and its gateway sends EventBridge events: a real
    HTTP receiver the push tests read and replay into the console's ingest endpoints."""
    with http_receiver_running() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory, push_receiver):
    """DynamoDB Local + durable-execution emulator + Lambda gateway, started by the first test that asks for
    it (directly or through `aws`, `lambda_client`, ...) and kept for the rest of the session. Nothing is
    autouse, so tests that need none of it (tests/unit) never start it. Its functions run with the push
    plugin enabled, reporting to `push_receiver`."""
    stack = local_stack_start(
        log_dir=tmp_path_factory.mktemp("localstack"),
        functions=TEST_FUNCTIONS,
        gateway_env=push_env(push_receiver.base_url),
    )
    django_settings.DYNAMODB_ENDPOINT_URL = stack.dynamodb_url
    django_settings.LAMBDA_ENDPOINT_URL = stack.gateway_url
    django_settings.AWS_LOCAL_CREDENTIALS = True
    django_settings.AWS_REGION = TEST_REGION
    django_settings.ORDERS_TABLE = stack.table
    aws_clients_reset()
    from approvals.orders_schema import orders_table_create

    orders_table_create()
    yield stack
    stack.stop()
    aws_clients_reset()


@pytest.fixture
def aws(local_stack, settings):
    """Point the Django settings at the session's local stack (restored after the test)."""
    settings.DYNAMODB_ENDPOINT_URL = local_stack.dynamodb_url
    settings.LAMBDA_ENDPOINT_URL = local_stack.gateway_url
    settings.AWS_LOCAL_CREDENTIALS = True
    settings.ORDERS_TABLE = local_stack.table
    aws_clients_reset()
    yield local_stack
    aws_clients_reset()


def _raw_client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=TEST_REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def lambda_client(local_stack):
    """A plain boto3 Lambda client on the gateway (what a user's script would use)."""
    return _raw_client("lambda", local_stack.gateway_url)


@pytest.fixture
def dynamodb_client(local_stack):
    return _raw_client("dynamodb", local_stack.dynamodb_url)


def _user(django_user_model, username: str, *groups: str):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    for name in groups:
        # get_or_create: a transactional test (live_server) empties the tables the roles migration filled
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def approver(db, django_user_model):
    return _user(django_user_model, "approver", APPROVERS)


@pytest.fixture
def second_approver(db, django_user_model):
    return _user(django_user_model, "approver2", APPROVERS)


@pytest.fixture
def operator(db, django_user_model):
    return _user(django_user_model, "operator", OPERATORS)


@pytest.fixture
def admin_user(db, django_user_model):
    return _user(django_user_model, "admin", ADMINS)


@pytest.fixture
def approver_client(client, approver):
    client.force_login(approver)
    return client


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


# --- headless Chromium ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}: `make test` installs Debian's `chromium` "
            "(scripts/system-packages.sh), or set CHROMIUM_PATH."
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in the test thread, which makes Django refuse the tests' own
    # (synchronous) ORM calls, including pytest-django's flush after the session's last browser test.
    # Subprocesses that must not inherit this (e.g. `check --deploy`) drop it from their environment.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshot_dir():
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def browser_login(browser, live_server):
    """Return a function that logs `user` in (password pw-<username>) and yields a page."""
    contexts = []

    def login(user, viewport=(1440, 900)):
        # Playwright evaluates string predicates (wait_for_function) with eval, which the console's
        # Content-Security-Policy forbids; tests/dashboard/test_security_browser.py runs under the policy.
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw-" + user.username)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield login
    for context in contexts:
        context.close()


@pytest.fixture
def aws_double():
    """An in-memory AWS-semantics double of the durable-execution APIs on a free port (tests/aws_double.py)."""
    from tests.aws_double import AwsDouble

    double = AwsDouble(region=TEST_REGION)
    double.start()
    yield double
    double.stop()
