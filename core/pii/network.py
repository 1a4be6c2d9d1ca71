"""IP addresses, v4 and v6.

A dotted quad is an address unless the text marks it as something else: a version (`v1.2.3.4`,
`version 1.2.3.4`, `Chrome/1.2.3.4`, `==1.2.3.4`), part of a longer dotted number (an OID, a
five-part version) or a netmask (`255.255.255.0`). Loopback and unspecified addresses
(`127.0.0.1`, `0.0.0.0`, `::1`, `::`) identify no one and are not reported; private ranges are,
with a lower confidence (they still map a network).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from core.pii.context import before, keywords
from core.pii.findings import IP, Finding
from core.pii.prepared import Prepared

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_CIDR = re.compile(r"/(\d{1,2})(?!\d)", re.ASCII)
_V4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d)", re.ASCII)
# the word right before the quad (an optional "is"/"number" between) says it is a version
_VERSION_WORDS = re.compile(
    r"(?<![a-z])(?:version|versions|ver|v|release|build|rev|revision|firmware|fw|sdk|patch|"
    r"upgrade to|upgraded to|bump to|bumped to|tag|oid|vers[ií]on|"
    r"see|section|sec|§|chapter|ch|clause|step|item|figure|fig|table|paragraph|para|article|"
    r"art|rule|requirement|appendix|annex|rfc)\.?"
    r"(?:\s+(?:is|was|number|no\.?|string))?$"
)
_NET_WORDS = keywords(
    "ip",
    "ips",
    "ipv4",
    "addr",
    "address",
    "host",
    "hosts",
    "hostname",
    "server",
    "servers",
    "gateway",
    "gw",
    "dns",
    "nameserver",
    "resolver",
    "ntp",
    "connect",
    "connected",
    "connecting",
    "listen",
    "listening",
    "proxy",
    "proxy_pass",
    "allow",
    "deny",
    "remote",
    "peer",
    "subnet",
    "route",
    "ping",
    "ssh",
    "scp",
    "rsync",
    "curl",
    "bind",
    "upstream",
    "forwarded",
    "x-forwarded-for",
    "x-real-ip",
    "inet",
    "endpoint",
    "vpn",
    "firewall",
    "nat",
    "router",
    "cidr",
    "src",
    "dst",
    "blocked",
    "banned",
    "attacker",
    "mysql",
    "psql",
    "redis",
    "port",
)
# a preposition right before the quad: "from 10.1.2.3", "at 10.1.2.3"
_NET_BEFORE = re.compile(r"(?<![a-z])(?:from|to|via|at|on|@|by)\s*$")
_VERSION_ANYWHERE = keywords(
    "version",
    "release",
    "releases",
    "released",
    "build",
    "update",
    "upgrade",
    "upgraded",
    "hotfix",
    "patch",
    "firmware",
    "sdk",
    "kernel",
    "driver",
    "changelog",
    "notes for",
)
_PORT = re.compile(r"[:/]\d", re.ASCII)
_V6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*\d)(?:[0-9A-Fa-f]{1,4}|(?=::))(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:]|\.\d)",
    re.ASCII,
)


def _line_of(text: str, start: int, end: int) -> tuple[str, str]:
    """The lower-cased text before and after a match on its line."""
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    if le < 0:
        le = len(text)
    return text[ls:start].lower(), text[end:le].lower()


def _version_context(text: str, start: int, end: int, octets: list[int]) -> bool:
    """Whether a dotted quad reads as a version rather than an address.

    In order: a version word right before it, or a package pin (`==`, `Chrome/`), says version;
    a network word anywhere on its line (`host`, `ip`, `from`, `ssh`, a port after it) says
    address; a version word earlier on the line says version; a capitalised product name right
    before it with every part under 64 (`Kubernetes 1.29.3.2`) says version; else address.
    """
    ctx = before(text, start, 32)
    if ctx.endswith(("==", ">=", "<=", "~=", "!=")):
        return True  # pkg==1.2.3.4
    if len(ctx) >= 2 and ctx[-1] in "/-" and ctx[-2].isalpha():
        return True  # Chrome/1.2.3.4 (a user agent), pkg-1.2.3.4
    if _VERSION_WORDS.search(ctx.rstrip(" :=(")):
        return True
    head, tail = _line_of(text, start, end)
    if _NET_WORDS.search(head) or _NET_WORDS.search(tail) or _PORT.match(tail):
        return False
    if _NET_BEFORE.search(head):
        return False
    if _VERSION_ANYWHERE.search(head):
        return True
    raw = text[max(0, start - 40) : start].rstrip()
    word = raw.rsplit(None, 1)[-1] if raw.split() else ""
    return bool(word[:1].isupper() and word[1:].isalpha() and max(octets) < 64)


def ips(p: Prepared) -> Iterator[Finding]:
    text = p.text
    for lo, hi, digits in p.clusters():
        if digits >= 4 and "." in text[lo:hi]:
            yield from _v4(text, lo, hi)
    if "::" in text:
        for lo, hi in p.around("::", 40, 40):
            yield from _v6(text, lo, hi)
    if text.count(":") >= 7:  # a full eight-group address has no "::": lines with 7 colons
        pos = 0
        for line in text.split("\n"):
            if line.count(":") >= 7:
                yield from _v6(text, pos, pos + len(line))
            pos += len(line) + 1


def _v4(text: str, lo: int, hi: int) -> Iterator[Finding]:
    for m in _V4.finditer(text, lo, hi):
        s = m.group()
        octets = [int(x) for x in s.split(".")]
        if octets[0] == 255 or _version_context(text, m.start(), m.end(), octets):
            continue
        addr = ipaddress.IPv4Address(s)
        if addr.is_loopback or addr.is_unspecified:
            continue
        cidr = _CIDR.match(text, m.end())
        if cidr and int(cidr.group(1)) <= 32:
            net = ipaddress.IPv4Network(f"{s}/{cidr.group(1)}", strict=False)
            if net.network_address == addr and net.prefixlen < 32:
                continue  # 10.0.0.0/8 names a range, not a host
        private = addr.is_private or addr.is_link_local
        yield Finding(m.start(), m.end(), IP, 700 if private else 900, "ipv4")


def _v6(text: str, lo: int, hi: int) -> Iterator[Finding]:
    for m in _V6.finditer(text, lo, hi):
        s = m.group()
        if sum(1 for g in s.split(":") if g) < 2:
            continue
        try:
            addr = ipaddress.IPv6Address(s)
        except ValueError:
            continue
        if addr.is_loopback or addr.is_unspecified:
            continue
        private = addr.is_private or addr.is_link_local
        yield Finding(m.start(), m.end(), IP, 700 if private else 900, "ipv6")
