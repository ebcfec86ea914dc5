"""Webhooks cannot be pointed at our own networks (server-side request forgery): non-public
destinations are refused when subscribing and again at delivery, after resolving the host name,
and the connection goes to the address that was vetted. Redirects are never followed, and a
failure is stored as a category, never as the exception text (a port-scan oracle).

Nothing here leaves the machine: DNS is a stub (an unknown name fails), and every connection
attempt is recorded, with anything but loopback refused before it is made."""

from __future__ import annotations

import ipaddress
import json
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.models import WebhookDelivery, WebhookSubscription
from tests.sync.test_webhooks import run_deliveries

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"
NAME = "hooks.partner.example"
NON_PUBLIC_URLS = [
    "http://127.0.0.1/hooks",
    "http://localhost/hooks",
    "https://localhost:8443/hooks",
    "http://[::1]/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hooks",
    "http://192.168.1.1/hooks",
    "http://172.16.0.1/hooks",
    "http://[fd00::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://[::ffff:169.254.169.254]/hooks",
    "http://100.64.0.1/hooks",  # carrier-grade NAT
    "http://0.0.0.0/hooks",
    "http://224.0.0.1/hooks",
    "http://[fe80::1]/hooks",
    "http://[64:ff9b::a00:5]/hooks",  # NAT64 of 10.0.0.5
    "http://[2002:a00:5::1]/hooks",  # 6to4 of 10.0.0.5
]


def _is_loopback(host) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def connections(monkeypatch):
    """Every outgoing connection attempt, recorded as (host, port); any but loopback is refused
    before a packet is sent."""
    attempts: list[tuple] = []
    real_create_connection = socket.create_connection
    real_connect = socket.socket.connect

    def create_connection(address, *args, **kwargs):
        attempts.append(tuple(address[:2]))
        if not _is_loopback(address[0]):
            raise ConnectionRefusedError("test: only loopback may be connected to")
        return real_create_connection(address, *args, **kwargs)

    def connect(sock, address):
        if not _is_loopback(address[0]):
            attempts.append(tuple(address[:2]))
            raise ConnectionRefusedError("test: only loopback may be connected to")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


class StubDNS:
    """socket.getaddrinfo answering from `answers` (name → list of address lists: one per
    lookup, the last repeated); an unknown name does not resolve."""

    def __init__(self, real):
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:  # an address: answered without any DNS query
            return self.real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        self.lookups.append(host)
        queue = self.answers.get(host) or [[]]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (stub)")
        result = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 6:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    stub = StubDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", stub)
    return stub


@pytest.fixture
def no_allow_list(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


class _LocalHTTPServer(ThreadingHTTPServer):
    def server_bind(self):
        # HTTPServer.server_bind looks its own name up (getfqdn): not needed, and not wanted.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.server_address[1]


class Server:
    """A local HTTP server on 127.0.0.1 recording each request's method, path and Host header,
    answering `status` with `headers`."""

    def __init__(self, status=204, headers=()):
        self.status, self.headers = status, dict(headers)
        self.requests: list[tuple[str, str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server.requests.append((self.command, self.path, self.headers["Host"]))
                self.send_response(server.status)
                for name, value in server.headers.items():
                    self.send_header(name, value.format(port=server.port))
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = do_PUT = answer

            def log_message(self, *args):
                pass

        self.httpd = _LocalHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.close()


def subscribe(api, token, url):
    return api(token).post("/api/v1/webhooks/", {"url": url, "event_types": ["*"]}, format="json")


def subscribed(api, token, url) -> WebhookSubscription:
    response = subscribe(api, token, url)
    assert response.status_code == 201, response.content
    return WebhookSubscription.objects.get(pk=response.json()["id"])


class TestAtSubscription:
    @pytest.mark.parametrize("url", NON_PUBLIC_URLS)
    def test_it_refuses_non_public_addresses(
        self, api, police_system, no_allow_list, dns, connections, url
    ):
        response = subscribe(api, police_system, url)
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert error["fields"]["url"] == ["not a public address"]
        assert not WebhookSubscription.objects.exists()
        assert dns.lookups == []  # addresses and localhost are never asked of DNS
        assert connections == []

    @pytest.mark.parametrize(
        "answer", [["10.0.0.5"], ["127.0.0.1"], [PUBLIC, "192.168.1.1"], ["fd00::1", PUBLIC]]
    )
    def test_it_refuses_a_name_with_any_non_public_address(
        self, api, police_system, no_allow_list, dns, answer
    ):
        dns.answers[NAME] = [answer]
        response = subscribe(api, police_system, f"https://{NAME}/vru")
        assert response.status_code == 400
        assert "url" in response.json()["error"]["fields"]
        assert dns.lookups == [NAME]

    def test_a_name_that_does_not_resolve_is_refused_alike(self, api, police_system, dns):
        response = subscribe(api, police_system, "https://nowhere.partner.example/vru")
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["url"] == ["not a public address"]
        assert dns.lookups == ["nowhere.partner.example"]

    def test_the_allow_list_admits_only_its_own_networks(self, api, police_system, settings):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
        assert subscribe(api, police_system, "http://10.20.3.4/hooks").status_code == 201
        for url in ("http://10.21.0.1/hooks", "http://127.0.0.1/hooks", "http://0.0.0.0/"):
            assert subscribe(api, police_system, url).status_code == 400


class TestAtDelivery:
    @pytest.mark.parametrize(
        "rebound",
        [["10.0.0.5"], ["127.0.0.1"], ["169.254.169.254"], ["::ffff:127.0.0.1"], [PUBLIC, "::1"]],
    )
    def test_a_name_rebound_to_a_private_address_is_refused_without_connecting(
        self, api, police_system, make_person, no_allow_list, dns, connections, rebound
    ):
        dns.answers[NAME] = [[PUBLIC], rebound]  # public when subscribing, then not
        subscribed(api, police_system, f"https://{NAME}/vru")
        make_person()
        assert run_deliveries() == ["pending"]
        assert connections == []
        delivery = WebhookDelivery.objects.get()
        assert delivery.last_error_category == "refused_destination"
        assert delivery.last_status_code is None

    @pytest.mark.parametrize("url", NON_PUBLIC_URLS)
    def test_a_stored_non_public_url_is_refused_without_connecting(
        self, api, police_system, make_person, no_allow_list, dns, connections, url
    ):
        """Subscriptions made before destinations were checked, or while the allow-list held
        their network, are checked again at every delivery."""
        dns.answers[NAME] = [[PUBLIC]]
        subscription = subscribed(api, police_system, f"https://{NAME}/vru")
        WebhookSubscription.objects.filter(pk=subscription.pk).update(url=url)
        make_person()
        assert run_deliveries() == ["pending"]
        assert connections == []
        assert WebhookDelivery.objects.get().last_error_category == "refused_destination"

    def test_it_connects_to_the_vetted_address_and_keeps_the_host_name(
        self, api, police_system, make_person, loopback_allowed, dns, connections, server
    ):
        # A second lookup would answer differently: the delivery must not make one.
        dns.answers[NAME] = [["127.0.0.1"], ["127.0.0.1"], ["10.0.0.5"]]
        subscribed(api, police_system, f"http://{NAME}:{server.port}/vru?x=1")
        make_person()
        dns.lookups.clear()
        assert run_deliveries() == ["delivered"]
        assert dns.lookups == [NAME]
        assert connections == [("127.0.0.1", server.port)]
        assert server.requests == [("POST", "/vru?x=1", f"{NAME}:{server.port}")]


class TestRedirects:
    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    @pytest.mark.parametrize(
        "location", ["/elsewhere", "http://127.0.0.1:{port}/elsewhere", "http://10.0.0.5/x"]
    )
    def test_a_redirect_is_a_failed_delivery_and_is_not_followed(
        self, api, police_system, make_person, loopback_allowed, connections, status, location
    ):
        server = Server(status, {"Location": location})
        try:
            subscribed(api, police_system, f"http://127.0.0.1:{server.port}/hooks")
            make_person()
            assert run_deliveries() == ["pending"]
        finally:
            server.close()
        assert [path for _, path, _ in server.requests] == ["/hooks"]
        assert connections == [("127.0.0.1", server.port)]
        delivery = WebhookDelivery.objects.get()
        assert (delivery.last_error_category, delivery.last_status_code) == ("redirect", status)


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


class _Silent:
    """Accepts connections (the kernel does, from the backlog) and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


class _HangUp:
    """Accepts each connection and closes it without a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                conn.recv(65536)
            finally:
                conn.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


class TestStoredErrors:
    @pytest.mark.parametrize(
        "scenario, category, status_code",
        [
            ("closed_port", "connect", None),
            ("silent", "timeout", None),
            ("hang_up", "bad_response", None),
            ("https_to_plain_http", "tls", None),
            ("http_404", "http_4xx", 404),
            ("http_503", "http_5xx", 503),
            ("dns_gone", "dns", None),
        ],
    )
    def test_a_failure_is_stored_as_its_category_not_its_text(
        self, api, police_system, make_person, loopback_allowed, settings, dns, scenario,
        category, status_code,
    ):  # fmt: skip
        settings.WEBHOOK_TIMEOUT_SECONDS = 1
        settings.WEBHOOK_DISABLE_AFTER = 1
        closers = []
        if scenario == "closed_port":
            url = f"http://127.0.0.1:{_closed_port()}/hooks"
        elif scenario in ("silent", "hang_up"):
            listener = _Silent() if scenario == "silent" else _HangUp()
            closers.append(listener.close)
            url = f"http://127.0.0.1:{listener.port}/hooks"
        elif scenario == "dns_gone":
            dns.answers[NAME] = [[PUBLIC], []]  # resolves when subscribing, then no longer
            url = f"https://{NAME}/hooks"
        else:
            server = Server(int(scenario[-3:]) if scenario.startswith("http_") else 204)
            closers.append(server.close)
            scheme = "https" if scenario == "https_to_plain_http" else "http"
            url = f"{scheme}://127.0.0.1:{server.port}/hooks"
        try:
            subscription = subscribed(api, police_system, url)
            make_person()
            assert run_deliveries() == ["cancelled"]  # disabled after this one failure
        finally:
            for close in closers:
                close()
        delivery = WebhookDelivery.objects.get()
        assert delivery.last_error_category == category
        assert delivery.last_status_code == status_code
        subscription.refresh_from_db()
        last = f"{category}, HTTP {status_code}" if status_code else category
        assert subscription.disabled_reason == f"1 deliveries in a row failed (last: {last})"
        listed = json.dumps(api(police_system).get("/api/v1/webhooks/").json())
        for text in ("Errno", "refused", "timed out", "SSL", "Error", "127.0.0.1:"):
            assert text not in listed.replace(url, "")


def test_address_classification():
    from sync.webhooks import address_allowed

    refused = [
        "127.0.0.1", "10.0.0.5", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "255.255.255.255", "224.0.0.1", "198.18.0.1", "240.0.0.1", "192.0.2.1",
        "::1", "::", "fd00::1", "fe80::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.5", "::7f00:1", "64:ff9b::a00:5", "2002:a00:5::1", "2001::1",
        "2001:db8::1",
    ]  # fmt: skip
    allowed = ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
    assert [a for a in refused if address_allowed(ipaddress.ip_address(a))] == []
    assert [a for a in allowed if not address_allowed(ipaddress.ip_address(a))] == []
