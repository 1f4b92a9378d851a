"""Corporate-network plumbing shared by every transport: which proxy, which trusted CAs.

Proxies follow the conventions curl and Python use: ``spark.model.proxy`` if set, else
``HTTPS_PROXY`` (``wss://``/``https://`` targets) or ``HTTP_PROXY`` (``ws://``/``http://``),
else ``ALL_PROXY``; upper or lower case; ``NO_PROXY`` lists hosts (and domain suffixes) that
are reached directly. Only HTTP proxies are supported (``CONNECT`` tunnels).

Trust: the system store as OpenSSL finds it — so ``SSL_CERT_FILE`` *replaces* it, as OpenSSL
defines — plus ``spark.model.caFile``, which *adds* a CA (a corporate TLS-inspecting proxy's)
without losing the public roots that other endpoints need.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit

from spark_lsp.errors import ConfigError


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy; its credentials stay out of ``repr`` (they would reach a log)."""

    host: str
    port: int
    authorization: str | None = field(default=None, repr=False)
    #: The URL as configured, credentials included (websockets reads them from it).
    source: str = field(default="", repr=False)

    def auth_header(self) -> dict[str, str]:
        """The ``Proxy-Authorization`` header, when the proxy URL carried credentials."""
        return {"Proxy-Authorization": self.authorization} if self.authorization else {}

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """Parse ``http://[user:pass@]host[:port]`` (a bare ``host:port`` means http)."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ConfigError(
                f"unsupported proxy {parts.scheme}://{parts.hostname or ''}: "
                "only http:// proxies are supported (set spark.model.proxy)"
            )
        source = parts.geturl()
        return cls(parts.hostname, parts.port or 80, basic_auth(parts), source)


def basic_auth(parts: SplitResult) -> str | None:
    """A ``Basic`` credential from a proxy URL's user info, if it has one."""
    if parts.username is None:
        return None
    user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(user_pass.encode()).decode()


def proxy_for(url: str, setting: str | None, env: Mapping[str, str]) -> Proxy | None:
    """The proxy to reach ``url`` through, or None to connect directly."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _bypassed(host, _env(env, "NO_PROXY")):
        return None
    chosen = setting
    if not chosen:
        secure = parts.scheme in ("https", "wss")
        chosen = _env(env, "HTTPS_PROXY" if secure else "HTTP_PROXY") or _env(env, "ALL_PROXY")
    return Proxy.parse(chosen) if chosen else None


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name) or env.get(name.lower())
    return value.strip() if value and value.strip() else None


def _bypassed(host: str, no_proxy: str | None) -> bool:
    if not no_proxy:
        return False
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name = entry.split(":")[0].lstrip(".")
        if host == name or host.endswith("." + name) or _in_network(host, entry):
            return True
    return False


def _in_network(host: str, entry: str) -> bool:
    import ipaddress  # only when NO_PROXY is set: keep it off every start-up

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


def client_ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """The system trust store (``SSL_CERT_FILE`` honoured) plus ``ca_file`` when given."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot load spark.model.caFile {ca_file}: {exc}") from None
    return context
