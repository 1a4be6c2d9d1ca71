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

from core.pii.context import before
from core.pii.findings import IP, Finding
from core.pii.prepared import Prepared

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_CIDR = re.compile(r"/(\d{1,2})(?!\d)")
_V4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d)")
# the word right before the quad (an optional "is"/"number" between) says it is a version
_VERSION_WORDS = re.compile(
    r"(?<![a-z])(?:version|versions|ver|v|release|build|rev|revision|firmware|fw|sdk|patch|"
    r"upgrade to|upgraded to|bump to|bumped to|tag|oid|vers[ií]on)\.?"
    r"(?:\s+(?:is|was|number|no\.?|string))?$"
)
_V6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*\d)(?:[0-9A-Fa-f]{1,4}|(?=::))(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:]|\.\d)"
)


def _version_context(text: str, start: int) -> bool:
    ctx = before(text, start, 32)
    if ctx.endswith(("==", ">=", "<=", "~=", "!=")):
        return True  # pkg==1.2.3.4
    if len(ctx) >= 2 and ctx[-1] in "/-" and ctx[-2].isalpha():
        return True  # Chrome/1.2.3.4 (a user agent), pkg-1.2.3.4
    return bool(_VERSION_WORDS.search(ctx.rstrip(" :=(")))


def ips(p: Prepared) -> Iterator[Finding]:
    text = p.text
    for lo, hi, digits in p.clusters():
        if digits >= 4 and "." in text[lo:hi]:
            yield from _v4(text, lo, hi)
    if "::" in text:
        for lo, hi in p.around("::", 40, 40):
            yield from _v6(text, lo, hi)
    if text.count(":") >= 7:  # a full eight-group address has no "::"
        yield from _v6(text, 0, p.n)


def _v4(text: str, lo: int, hi: int) -> Iterator[Finding]:
    for m in _V4.finditer(text, lo, hi):
        s = m.group()
        if s.startswith("255.") or _version_context(text, m.start()):
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
