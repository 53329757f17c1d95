"""Server address validation: usable addresses normalised, bad ones explained."""

from __future__ import annotations

import pytest

from kiosk.urls import ServerURLError, ambient_url, health_url, validate_server_url


@pytest.mark.parametrize(
    ("raw", "base"),
    [
        ("http://host:8000", "http://host:8000"),
        ("http://host:8000/", "http://host:8000"),
        ("  https://tv.example.org  ", "https://tv.example.org"),
        ("http://10.0.0.5:8000/ambient", "http://10.0.0.5:8000"),  # a pasted page address
        ("http://proxy/simulcast/", "http://proxy/simulcast"),  # behind a path prefix
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_valid_addresses_are_normalised(raw: str, base: str) -> None:
    assert validate_server_url(raw) == base


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("host:8000", r"no scheme; did you mean http://host:8000 \?"),
        ("192.168.1.4", r"did you mean http://192.168.1.4 \?"),
        ("ftp://host", "must start with http:// or https://"),
        ("http://", "no host name"),
        ("http://host:99999", "invalid port"),
        ("http://host:port", "invalid port"),
        ("http://host/?a=1", "query or fragment"),
        ("http://my host", "contains spaces"),
    ],
)
def test_invalid_addresses_say_why(raw: str, message: str) -> None:
    with pytest.raises(ServerURLError, match=message):
        validate_server_url(raw)


def test_page_and_health_urls() -> None:
    base = validate_server_url("http://proxy/simulcast/")
    assert ambient_url(base) == "http://proxy/simulcast/ambient"
    assert health_url(base) == "http://proxy/simulcast/healthz"
