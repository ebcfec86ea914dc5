"""Container health check for the web service: GET /healthz must answer 200 "ok".

Sends the first ALLOWED_HOSTS name as Host (Django rejects unknown hosts with 400) and
X-Forwarded-Proto: https, as the TLS-terminating proxy in front would. Standard library only.
"""

from __future__ import annotations

import os
import sys
import urllib.request

hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
host = next((h for h in hosts if h and h != "*"), "localhost")
port = os.environ.get("PORT", "8000")
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"}
)
try:
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (fixed http URL)
        ok = response.status == 200 and response.read().strip() == b"ok"
except OSError as exc:
    print(f"healthcheck: {exc}", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
