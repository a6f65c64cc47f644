"""The local mail sink of `make run`: a real SMTP server (aiosmtpd) on loopback that keeps each message.

Every message is written as an `.eml` file under the folder given (`var/mail/` in `make run`) and logged as one
line (from, to, subject, file), so the console's real SMTP path runs locally and what it sent can be opened in any
mail program. Started only when EMAIL_URL is not set (then the console's default EMAIL_URL points here).

    python -m devstack.mail_sink --port 1025 --dir var/mail
"""

from __future__ import annotations

import argparse
import itertools
import signal
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

_sequence = itertools.count(1)


class MailFolder:
    """aiosmtpd handler: each DATA becomes `<UTC time>-<n>.eml` in `folder`."""

    def __init__(self, folder: Path, log=print):
        self.folder = folder
        self.log = log
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = self.folder / f"{stamp}-{next(_sequence):05d}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(path)  # a reader never sees half a message
        subject = message_from_bytes(raw, policy=policy.default).get("Subject", "")
        self.log(f"mail from={envelope.mail_from} to={','.join(envelope.rcpt_tos)} subject={subject!r} -> {path.name}")
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    controller = Controller(
        MailFolder(args.dir, log=lambda line: print(line, flush=True)), hostname=args.host, port=args.port
    )
    controller.start()
    print(f"SMTP sink on {args.host}:{args.port}, messages in {args.dir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
