"""Production settings and serving, run as real processes with DURABLE_CONSOLE_ENV=production:
`check --deploy`, the SECRET_KEY start-up error, and gunicorn + whitenoise serving hashed static files."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from devstack.services import free_port

PROJECT = Path(__file__).resolve().parents[2]
HOST = "console.example.com"
METRICS_TOKEN = secrets.token_urlsafe(24)


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DURABLE_CONSOLE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": f"{HOST},127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "INGEST_TOKEN": secrets.token_urlsafe(32),
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONPATH": str(PROJECT),
    }
    for leftover in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"):  # the browser tests set the latter for their process
        env.pop(leftover, None)
    if "postgresql" in connection.settings_dict["ENGINE"]:
        # The test database pytest-django created for this run.
        settings_dict = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout
    )


# What a deployment sets (check --deploy does not connect to them).
SHARED_SERVICES = {
    "DATABASE_URL": "postgres://console@db.internal:5432/console",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CELERY_BROKER_URL": None,  # defaults to REDIS_URL
}


@pytest.mark.django_db
def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = manage(production_env(tmp_path, **SHARED_SERVICES), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)" in result.stdout


@pytest.mark.django_db
def test_check_deploy_flags_per_machine_defaults_in_production(tmp_path):
    env = production_env(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        REDIS_URL=None,
        CELERY_BROKER_URL=None,
        INGEST_TOKEN=None,
    )
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for check_id in ("dashboard.W001", "dashboard.W002", "dashboard.W003", "dashboard.W004"):
        assert check_id in result.stderr


@pytest.mark.django_db
def test_check_deploy_catches_a_missing_allowed_hosts_and_a_weak_key(tmp_path):
    env = production_env(tmp_path, **SHARED_SERVICES, ALLOWED_HOSTS="", SECRET_KEY="short")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W020" in result.stderr  # ALLOWED_HOSTS must not be empty
    assert "security.W009" in result.stderr  # weak SECRET_KEY


@pytest.mark.django_db
def test_missing_secret_key_is_a_clear_start_up_error(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DURABLE_CONSOLE_ENV=production" in result.stderr


@pytest.mark.django_db
def test_production_security_settings(tmp_path):
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'hsts': s.SECURE_HSTS_SECONDS, 'ssl': s.SECURE_SSL_REDIRECT, 'session': s.SESSION_COOKIE_SECURE,"
        "'csrf': s.CSRF_COOKIE_SECURE, 'hosts': s.ALLOWED_HOSTS, 'origins': s.CSRF_TRUSTED_ORIGINS,"
        "'debug': s.DEBUG, 'storage': s.STORAGES['staticfiles']['BACKEND'], 'log': s.LOG_FORMAT}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=production_env(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["hsts"] >= 31536000 and values["ssl"] and values["session"] and values["csrf"]
    assert values["hosts"] == [HOST, "127.0.0.1"] and values["origins"] == [f"https://{HOST}"]
    assert values["debug"] is False
    assert values["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["log"] == "json"


def _get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=20)
        return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def gunicorn(tmp_path, aws, db):
    """gunicorn with deploy/gunicorn.conf.py, production settings, after collectstatic."""
    env = production_env(
        tmp_path, **aws.env(), WEB_CONCURRENCY="1", WEB_THREADS="2", LOG_FORMAT="json", METRICS_TOKEN=METRICS_TOKEN
    )
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    collected = manage(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    if env["DATABASE_URL"].startswith("sqlite"):  # on PostgreSQL it is the migrated test database
        migrated = manage(env, "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}") from None
            time.sleep(0.2)
    yield base, Path(env["STATIC_ROOT"]), log_path
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_gunicorn_serves_the_app_and_hashed_static_files(gunicorn):
    base, static_root, log_path = gunicorn

    status, headers, body = _get(f"{base}/healthz", {"X-Request-ID": "probe-123"})
    assert status == 200, body
    assert json.loads(body)["status"] == "ok"
    assert headers["X-Request-ID"] == "probe-123"

    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/console.css"]
    assert hashed != "css/console.css" and hashed.startswith("css/console.")
    https = {"X-Forwarded-Proto": "https"}
    status, headers, body = _get(f"{base}/static/{hashed}", https)
    assert status == 200
    assert body == (PROJECT / "static" / "css" / "console.css").read_bytes()
    assert "immutable" in headers["Cache-Control"] and "max-age=315360000" in headers["Cache-Control"]
    status, headers, _ = _get(f"{base}/static/{hashed}", {**https, "Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"

    # Pages over plain HTTP are redirected to HTTPS; HTTPS answers carry HSTS and secure cookies.
    status, headers, _ = _get(f"{base}/accounts/login/", {"Host": HOST})
    assert status == 301 and headers["Location"].startswith(f"https://{HOST}/")
    status, headers, _ = _get(f"{base}/accounts/login/", {**https, "Host": HOST})
    assert status == 200
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert "Secure" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
    # Prometheus scrapes /metrics over plain HTTP inside the network, with the bearer token.
    assert _get(f"{base}/metrics", {"Host": HOST})[0] == 401
    status, headers, body = _get(f"{base}/metrics", {"Host": HOST, "Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"# TYPE durable_console_executions gauge" in body
    # Unknown hosts are refused.
    assert _get(f"{base}/accounts/login/", {**https, "Host": "evil.example"})[0] == 400

    # The access log is JSON with the request id.
    def access_line():
        for line in log_path.read_text().splitlines():
            if line.startswith("{") and '"gunicorn.access"' in line:
                entry = json.loads(line)
                if entry.get("path") == "/healthz" and entry.get("request_id") == "probe-123":
                    return entry
        return None

    deadline = time.monotonic() + 10
    while not access_line() and time.monotonic() < deadline:
        time.sleep(0.2)
    entry = access_line()
    assert entry, log_path.read_text()[-2000:]
    assert entry["status"] == 200 and entry["method"] == "GET" and entry["duration_ms"] >= 0
