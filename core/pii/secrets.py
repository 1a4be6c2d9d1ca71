"""Secrets: cloud and VCS tokens, private-key blocks, JWTs, password assignments and
high-entropy strings.

The token shapes follow the providers' documented formats (and detect-secrets' plugins, which
the tests cross-check against). The generic rules are careful about what is *not* a secret:
hex digests (git commits, SHA-256), UUIDs, package integrity hashes and identifiers are never
reported as high-entropy strings; a password assignment whose value is a placeholder
(`<password>`, `${DB_PASSWORD}`, `changeme`, `****`) or code (`getpass()`, `self.password`)
is not a password.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from core.pii.checksums import class_switches, entropy
from core.pii.context import before, keywords
from core.pii.findings import SECRET, Finding

_B = r"(?<![A-Za-z0-9_])"
_E = r"(?![A-Za-z0-9_])"

# (detail, pattern, confidence); the whole match is the span unless the pattern has a group 1
_TOKENS: tuple[tuple[str, re.Pattern[str], int], ...] = tuple(
    (d, re.compile(p), c)
    for d, p, c in (
        (
            "aws_access_key_id",
            _B + r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|AIPA)[A-Z2-7]{16}" + _E,
            980,
        ),
        (
            "aws_secret_access_key",
            r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key|aws_secret)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
            970,
        ),
        ("gcp_api_key", _B + r"AIza[0-9A-Za-z_-]{35}" + _E, 970),
        ("gcp_oauth_secret", _B + r"GOCSPX-[0-9A-Za-z_-]{28}" + _E, 970),
        ("github_token", _B + r"gh[pousr]_[A-Za-z0-9]{36,251}" + _E, 980),
        ("github_pat", _B + r"github_pat_[A-Za-z0-9_]{60,255}" + _E, 980),
        (
            "gitlab_token",
            _B + r"gl(?:pat|dt|ptt|rt|cbt|oas|soat|ft|imt|agent)-[0-9A-Za-z_-]{20,64}" + _E,
            970,
        ),
        ("slack_token", _B + r"xox[abposr]-[0-9A-Za-z-]{10,250}" + _E, 970),
        (
            "slack_webhook",
            r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9+/_-]{20,}",
            970,
        ),
        ("stripe_key", _B + r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}" + _E, 970),
        (
            "openai_key",
            _B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}" + _E,
            970,
        ),
        ("anthropic_key", _B + r"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}" + _E, 970),
        ("npm_token", _B + r"npm_[A-Za-z0-9]{36}" + _E, 960),
        ("pypi_token", _B + r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}" + _E, 970),
        ("twilio_key", _B + r"SK[0-9a-f]{32}" + _E, 800),
        ("sendgrid_key", _B + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _E, 970),
        ("mailgun_key", _B + r"key-[0-9a-z]{32}" + _E, 850),
        ("azure_storage_key", r"(?i:AccountKey)=([A-Za-z0-9+/]{86}==)", 970),
        ("azure_sas_signature", r"[?&]sig=([A-Za-z0-9%+/]{40,}(?:%3D|=){0,2})", 900),
        ("azure_client_secret", _B + r"[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}" + _E, 950),
        (
            "connection_string_password",
            r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:([^\s:/@]{3,128})@[\w.-]+",
            920,
        ),
    )
)

_KEY_BLOCK = re.compile(
    r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?PRIVATE KEY(?: BLOCK)?)-----"
)

_JWT = re.compile(
    r"(?<![A-Za-z0-9_.-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_-])"
)

# key [:=] value, in code, configs, env files and YAML; the value is the span
_ASSIGN = re.compile(
    r"(?i)(?<![A-Za-z0-9])((?:[A-Za-z0-9]+[_.-])*"
    r"(?:password|passwd|passphrase|pwd|pass|secret|secret[_-]?key|client[_-]?secret|api[_-]?key|"
    r"apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|bearer|token|private[_-]?key|"
    r"credentials?|kennwort|passwort|mot[_ ]de[_ ]passe|contraseña)(?:[_.-][A-Za-z0-9]+)?)"
    r"[\"']?[ \t]*(?::=|=>|[:=])[ \t]*(?:(\"[^\"\n]{1,200}\"|'[^'\n]{1,200}')|([^\s\"',;#)}\]]{1,200}))"
)
# "my password is hunter2", "Authorization: Bearer abc..."
_PROSE = re.compile(
    r"(?i)\b(?:password|passwort|passcode|pin|mot de passe|contraseña)\s+(?:is|was|ist|est|es|:)\s+"
    r"[\"'`]?([^\s\"'`]{4,64})"
)
_BEARER = re.compile(r"(?i)\b(?:bearer|token)\s+([A-Za-z0-9._~+/-]{20,}=*)")

_PLACEHOLDER = re.compile(
    r"(?i)^(?:[<\[{(%$].*|.*[>\]}]|x+|\*+|\.+|-+|_+|\?+|#+|none|null|nil|true|false|undefined|"
    r"empty|secret|password|passwd|pass|token|changeme|change_me|change-me|your[_-].*|my[_-].*|"
    r"example.*|dummy.*|placeholder|redacted|required|optional|string|str|bytes|int|"
    r"env\(.*|os\..*|process\.env.*|settings\..*|config\..*|getenv.*|input|prompt|todo|tbd|n/?a|"
    r"!.*|\d{1,7}|.*\(\)?)$"
)
_IDENT = re.compile(r"[a-z_][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|[A-Z][A-Z0-9_]*_[A-Z0-9_]+")
_SECRET_WORDS = keywords(
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "auth",
    "credential",
    "api",
    "signature",
    "sig",
    "private",
    "bearer",
    "apikey",
    "access",
)


# keys that name something about a secret, not the secret: token_type, password_file, …
_NOT_SECRET_KEY = re.compile(
    r"(?i)[_.-](?:type|count|len|length|url|uri|endpoint|file|path|name|expires?|expiry|ttl|"
    r"header|field|env|var|policy|min|max|prompt|label|hint|hash|id|limit|size|format|mode|"
    r"provider|method|dir|location|rotation|version|usage|encoding|prefix|regex|pattern)$"
)


def _assignment_value_ok(value: str, quoted: bool) -> bool:
    v = value.strip()
    if len(v) < 4 or _PLACEHOLDER.match(v):
        return False
    if not quoted:
        if _IDENT.fullmatch(v) and ("_" in v or "." in v):
            return False  # password = user_password, pwd = self.password, KEY=SOME_ENV_NAME
        if v[0] in "([{" or v.endswith((",", "(")):
            return False
        if v.lower() in {"required", "str", "string", "text", "bool", "int", "varchar"}:
            return False
    return True


def _looks_random(tok: str) -> bool:
    """A run that reads as generated: mixed classes switching often, high entropy, not hex."""
    n = len(tok)
    if n < 20:
        return False
    if re.fullmatch(r"[0-9a-fA-F-]+", tok):
        return False  # hex digests, git hashes, UUIDs
    lower = sum(c.islower() for c in tok)
    upper = sum(c.isupper() for c in tok)
    digit = sum(c.isdigit() for c in tok)
    if min(lower, upper) < 2 or digit < 2:
        return False
    if class_switches(tok) < n * 0.35:
        return False
    return entropy(tok) >= 4.0


_RUN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{20,512}={0,2}(?![A-Za-z0-9+/=_-])")
_NOT_SECRET_BEFORE = re.compile(r"(?:sha\d{1,3}|md5|integrity|sha)[-:=\"' ]*$")


def _jwt_ok(tok: str) -> bool:
    head = tok.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(b"{") and (b'"alg"' in raw or b'"typ"' in raw)


def secrets(text: str) -> Iterator[Finding]:
    for detail, pat, conf in _TOKENS:
        for m in pat.finditer(text):
            g = 1 if pat.groups else 0
            yield Finding(m.start(g), m.end(g), SECRET, conf, detail)
    if "-----BEGIN" in text:
        for m in _KEY_BLOCK.finditer(text):
            end_marker = f"-----END {m.group(1)}-----"
            end = text.find(end_marker, m.end())
            stop = end + len(end_marker) if end >= 0 else len(text)
            yield Finding(m.start(), stop, SECRET, 990, "private_key")
    if "eyJ" in text:
        for m in _JWT.finditer(text):
            if _jwt_ok(m.group()):
                yield Finding(m.start(), m.end(), SECRET, 960, "jwt")
    for m in _ASSIGN.finditer(text):
        if _NOT_SECRET_KEY.search(m.group(1)):
            continue
        quoted = m.group(2) is not None
        g = 2 if quoted else 3
        value = m.group(g)
        if quoted:
            start, end = m.start(g) + 1, m.end(g) - 1
            value = value[1:-1]
        else:
            start, end = m.start(g), m.end(g)
        if _assignment_value_ok(value, quoted):
            yield Finding(start, end, SECRET, 900, "password_assignment")
    for m in _PROSE.finditer(text):
        v = m.group(1).rstrip(".,;:!?)")
        if any(not c.isalpha() for c in v) or (v != v.lower() and v != v.upper()):
            if not _PLACEHOLDER.match(v):
                yield Finding(m.start(1), m.start(1) + len(v), SECRET, 850, "password_prose")
    for m in _BEARER.finditer(text):
        if _looks_random(m.group(1)) or len(m.group(1)) >= 32:
            yield Finding(m.start(1), m.end(1), SECRET, 900, "bearer_token")
    for m in _RUN.finditer(text):
        tok = m.group()
        if not _looks_random(tok.rstrip("=")):
            continue
        ctx = before(text, m.start(), 40)
        if _NOT_SECRET_BEFORE.search(ctx):
            continue  # sha512-… integrity strings, digests in base64
        if "/" in tok and not _SECRET_WORDS.search(ctx):
            continue  # a path or URL piece unless a key word names it
        conf = 800 if _SECRET_WORDS.search(ctx) else 700
        yield Finding(m.start(), m.end(), SECRET, conf, "high_entropy")
