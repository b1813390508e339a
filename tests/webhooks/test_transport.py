"""The SSRF rule, redirects, timeouts and the response cap of the webhook
transport (pmhub/webhooks/transport.py), against a local receiver."""

import socket

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from pmhub.webhooks import transport

from .receiver import running_receiver

LOCAL = override_settings(WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:a9fe:a9fe]/hook",  # 169.254.169.254, IPv4-mapped in hex
        "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
    ],
)
def test_internal_addresses_are_refused(url):
    with pytest.raises((transport.UnsafeTarget, ValidationError)):
        transport.check_target(url)
    with pytest.raises(ValidationError) as exc:
        transport.validate_url(url)
    assert "url" in exc.value.message_dict


def _fake_dns(monkeypatch, answers: dict[str, list[list[str]]]):
    """getaddrinfo answering ``answers[host]`` (one list per lookup, the last
    repeated); other hosts (IP literals) resolve for real. Returns the log."""
    real = socket.getaddrinfo
    looked_up = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            looked_up.append(host)
            replies = answers[host]
            addresses = replies[min(len(looked_up) - 1, len(replies) - 1)]
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port, 0, 0) if ":" in a else (a, port),
                )
                for a in addresses
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def test_a_hostname_resolving_to_loopback_is_refused(monkeypatch):
    _fake_dns(monkeypatch, {"hooks.example.com": [["127.0.0.1"]]})
    with pytest.raises(transport.UnsafeTarget, match=r"127\.0\.0\.1"):
        transport.check_target("https://hooks.example.com/in")


def test_any_internal_address_among_several_refuses(monkeypatch):
    _fake_dns(monkeypatch, {"mixed.example.com": [["93.184.216.34", "10.1.2.3"]]})
    with pytest.raises(transport.UnsafeTarget, match=r"10\.1\.2\.3"):
        transport.check_target("https://mixed.example.com/in")


def test_a_public_address_passes(monkeypatch):
    _fake_dns(monkeypatch, {"hooks.example.com": [["93.184.216.34"]]})
    target = transport.check_target("https://hooks.example.com:8443/in?x=1")
    assert (target.address, target.port, target.path, target.host) == (
        "93.184.216.34",
        8443,
        "/in?x=1",
        "hooks.example.com",
    )


def test_the_allow_list_lets_a_network_through():
    with pytest.raises(transport.UnsafeTarget):
        transport.check_target("http://127.0.0.1:9/hook")
    with LOCAL:
        assert transport.check_target("http://127.0.0.1:9/hook").address == "127.0.0.1"
        with pytest.raises(transport.UnsafeTarget):
            transport.check_target("http://10.0.0.1/hook")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "http://user:pw@example.com/", "example.com/hook", "http:///nohost"],
)
def test_urls_are_checked_when_saved(url):
    with pytest.raises(ValidationError) as exc:
        transport.validate_url(url)
    assert "url" in exc.value.message_dict


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(monkeypatch):
    with running_receiver() as receiver, LOCAL:
        # First answer: the receiver. Any later lookup would point elsewhere.
        looked_up = _fake_dns(monkeypatch, {"hooks.example.com": [["127.0.0.1"], ["10.255.255.1"]]})
        target = transport.check_target(f"http://hooks.example.com:{receiver.port}/in")
        result = transport.post(target, b"{}", {"webhook-id": "evt_1"})
        assert result.status == 200
        assert looked_up == ["hooks.example.com"]
        (request,) = receiver.requests
        assert request.headers["Host"] == f"hooks.example.com:{receiver.port}"
        assert request.path == "/in"


def test_redirects_are_not_followed():
    with running_receiver() as receiver, LOCAL:
        receiver.status = 302
        receiver.reply_headers = {"Location": f"http://127.0.0.1:{receiver.port}/elsewhere"}
        result = transport.post(transport.check_target(receiver.url), b"{}", {})
        assert result.status == 302 and not result.ok
        assert "not followed" in result.error
        assert [r.path for r in receiver.requests] == ["/hook"]


@override_settings(WEBHOOK_READ_TIMEOUT=1, WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"])
def test_a_slow_receiver_times_out():
    with running_receiver() as receiver:
        receiver.delay = 3
        result = transport.post(transport.check_target(receiver.url), b"{}", {})
        assert result.status is None and not result.ok
        assert "Timed out" in result.error


def test_only_the_first_kilobyte_of_the_answer_is_kept():
    with running_receiver() as receiver, LOCAL:
        receiver.reply_body = b"x" * 5000
        result = transport.post(transport.check_target(receiver.url), b"{}", {})
        assert result.ok and result.body == b"x" * transport.RESPONSE_CAPTURE
        # The connection was dropped, not reused with unread bytes: the next works.
        receiver.reply_body = b"fine"
        assert transport.post(transport.check_target(receiver.url), b"{}", {}).body == b"fine"


def test_a_refused_connection_is_a_failed_attempt_not_an_exception():
    with LOCAL:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        result = transport.post(transport.check_target(f"http://127.0.0.1:{port}/"), b"{}", {})
    assert result.status is None and result.error.startswith("Could not connect")


def test_https_connects_to_the_checked_address_with_the_host_for_sni_and_the_certificate():
    target = transport.Target("https", "hooks.example.com", 443, "/in", "93.184.216.34")
    pool = transport._pool(target)
    connection = pool._new_conn()
    assert connection.host == "93.184.216.34"
    assert connection.server_hostname == "hooks.example.com"
    assert pool.assert_hostname == "hooks.example.com"
    assert transport._host_header(target) == "hooks.example.com"
