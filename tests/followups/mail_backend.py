"""An email backend for worker processes started by the integration tests: each message becomes a
file in $TEST_MAIL_DIR, after an optional $TEST_MAIL_DELAY seconds (a window to kill a worker in)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        time.sleep(float(os.environ.get("TEST_MAIL_DELAY", "0")))
        folder = Path(os.environ["TEST_MAIL_DIR"])
        for message in email_messages:
            record = {"to": message.to, "subject": message.subject, "body": message.body}
            (folder / f"{uuid.uuid4()}.json").write_text(json.dumps(record))
        return len(email_messages)


def sent(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
