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

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
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


def ips(text: str) -> Iterator[Finding]:
    if "." in text:
        for m in _V4.finditer(text):
            s = m.group()
            if s.startswith("255.") or _version_context(text, m.start()):
                continue
            addr = ipaddress.IPv4Address(s)
            if addr.is_loopback or addr.is_unspecified:
                continue
            private = addr.is_private or addr.is_link_local
            yield Finding(m.start(), m.end(), IP, 700 if private else 900, "ipv4")
    if "::" in text or text.count(":") >= 7:
        for m in _V6.finditer(text):
            s = m.group()
            if sum(1 for g in s.split(":") if g) < 2:
                continue
            try:
                addr6 = ipaddress.IPv6Address(s)
            except ValueError:
                continue
            if addr6.is_loopback or addr6.is_unspecified:
                continue
            private = addr6.is_private or addr6.is_link_local
            yield Finding(m.start(), m.end(), IP, 700 if private else 900, "ipv6")
