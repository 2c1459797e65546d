"""Where a webhook may go: never to a private, loopback, link-local or otherwise non-public
address (SSRF), unless ``ATIENDE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`` allows it.

The name is resolved once per attempt and the request is sent to the address that was checked
(with the original Host and TLS server name), so a DNS answer that changes between the check
and the connection cannot point a delivery at the inside network.
"""

import asyncio
import ipaddress
import socket

import httpx


class AddressRefused(Exception):
    """The URL's host is not a public internet address (or does not resolve)."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def checked_address(url: httpx.URL, *, allow_private: bool) -> str:
    """The address to connect to for ``url``; raises ``AddressRefused``."""
    if url.scheme not in ("http", "https") or not url.host:
        raise AddressRefused("only http and https URLs with a host")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(url.host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{url.host} does not resolve") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise AddressRefused(f"{url.host} does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise AddressRefused(f"{url.host} resolves to a non-public address ({refused[0]})")
    return addresses[0]


def pinned(url: httpx.URL, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """``url`` aimed at ``address``: the new URL, the Host header and the request extensions."""
    host_header = url.host if url.port is None else f"{url.host}:{url.port}"
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return url.copy_with(host=address), {"Host": host_header}, extensions
