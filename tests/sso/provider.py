"""Starts the test OpenID Connect provider (tests/oidc_provider/) in its own process on 127.0.0.1,
the way tests/realparts.py starts Redis, and walks its sign-in form with `requests`.

Each provider gets a fresh RSA signing key, made here, and its own directory (under pytest's
basetemp) for its database, key and configuration. Killed in `finally` by whoever starts it.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.realparts import ROOT, free_port

START_TIMEOUT = 60
PROVIDER_PASSWORD = "provider-password-1"


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class OidcProvider:
    def __init__(self, directory: Path, *, users: dict[str, dict], redirect_bases: list[str]):
        """`users`: provider username -> the claims its id tokens carry (email, amr, ...)."""
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.client_id = f"vru-{secrets.token_hex(4)}"
        self.client_secret = secrets.token_urlsafe(24)
        self.control_secret = secrets.token_urlsafe(24)
        self.users = users
        self.redirect_bases = redirect_bases
        self.proc: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OidcProvider:
        self.launch()
        self.wait_ready()
        return self

    def launch(self) -> None:
        (self.dir / "signing.pem").write_text(rsa_pem())
        config = {
            "secret_key": secrets.token_urlsafe(40),
            "control_secret": self.control_secret,
            "users": {
                name: {"password": PROVIDER_PASSWORD, "claims": claims}
                for name, claims in self.users.items()
            },
            "client": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "redirect_uris": [f"{base}/sso/callback/" for base in self.redirect_bases],
                "post_logout_redirect_uris": [f"{base}/login/" for base in self.redirect_bases],
            },
        }
        (self.dir / "config.json").write_text(json.dumps(config))
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_"))
        }
        env.update(OIDC_PROVIDER_DIR=str(self.dir), OIDC_PROVIDER_PORT=str(self.port))
        with (self.dir / "provider.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.oidc_provider.serve"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the test provider exited:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                discovery = f"{self.issuer}/.well-known/openid-configuration"
                if requests.get(discovery, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the test provider did not start:\n{self.log()}")

    def signing_key(self) -> str:
        """The provider's private signing key (PEM): what it signs its tokens with."""
        return (self.dir / "signing.pem").read_text()

    def set_active(self, username: str, active: bool) -> None:
        """Disable (or enable again) a person at the provider, as its administrator does."""
        response = requests.post(
            f"{self.issuer}/directory/{username}/active",
            data={"active": "1" if active else "0"},
            headers={"Authorization": f"Bearer {self.control_secret}"},
            timeout=10,
        )
        assert response.status_code == 204, response.status_code

    def log(self) -> str:
        path = self.dir / "provider.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None


def handoff_url(page: str) -> str:
    """The provider URL on our hand-off page (the link the meta refresh also follows)."""
    found = re.search(r'id="sso-continue" href="([^"]+)"', page)
    assert found, page
    return html.unescape(found.group(1))


def sign_in_at_provider(browser: requests.Session, url: str, username: str) -> str:
    """Follow `url` at the provider, fill its sign-in form as `username`, and return the URL it
    sends the person back to (our callback), without following it."""
    provider = urlsplit(url).netloc
    for _ in range(10):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (301, 302, 303):
            url = urljoin(url, response.headers["Location"])
            if urlsplit(url).netloc != provider:
                return url
            continue
        assert response.status_code == 200, (response.status_code, response.text[:500])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
        nxt = html.unescape(re.search(r'name="next" value="([^"]*)"', response.text).group(1))
        posted = browser.post(
            url,
            data={
                "csrfmiddlewaretoken": token,
                "username": username,
                "password": PROVIDER_PASSWORD,
                "next": nxt,
            },
            headers={"Referer": url},
            allow_redirects=False,
            timeout=10,
        )
        assert posted.status_code == 302, posted.text[:500]
        url = urljoin(url, posted.headers["Location"])
    raise AssertionError("the provider never sent the person back")
