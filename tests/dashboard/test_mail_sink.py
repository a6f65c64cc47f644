"""The SMTP sink of `make run` (devstack.mail_sink): a real SMTP server that keeps each message as an .eml file
and logs one line per message."""

from __future__ import annotations

import smtplib
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage

from devstack import services
from devstack.paths import PROJECT_DIR
from tests.conftest import wait_until


def test_the_sink_keeps_each_message_as_an_eml_file_and_logs_it(tmp_path):
    port = services.free_port()
    folder = tmp_path / "mail"
    process = subprocess.Popen(
        services.mail_sink_command(port=port, folder=folder),
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        services.wait_for_port(port, process=process)
        for n in (1, 2):
            message = EmailMessage()
            message["From"], message["To"] = "durable-console@localhost", "approver@example.com"
            message["Subject"] = f"Order {n} needs your approval"
            message.set_content(f"Order {n}: café, 12.50 EUR")
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                smtp.send_message(message)
        files = wait_until(lambda: sorted(folder.glob("*.eml")) if len(list(folder.glob("*.eml"))) == 2 else None)
        first = message_from_bytes(files[0].read_bytes(), policy=policy.default)
        assert first["To"] == "approver@example.com" and first["Subject"] == "Order 1 needs your approval"
        assert "café" in first.get_content()
        assert not list(folder.glob("*.tmp"))
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert f"SMTP sink on 127.0.0.1:{port}" in output
    assert output.count("mail from=durable-console@localhost to=approver@example.com") == 2
    assert "Order 2 needs your approval" in output
