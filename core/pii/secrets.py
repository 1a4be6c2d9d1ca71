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
from core.pii.financial import iban_token
from core.pii.findings import SECRET, Finding
from core.pii.national_ids import codice_fiscale
from core.pii.prepared import Prepared

_B = r"(?<![A-Za-z0-9_])"
_E = r"(?![A-Za-z0-9_])"

# Vendor tokens, found in the token pass: (detail, pattern, confidence, the prefixes a token
# starts with, or a hint it contains).
_VENDOR: tuple[tuple[str, re.Pattern[str], int, tuple[str, ...], str], ...] = tuple(
    (d, re.compile(p), c, starts, hint)
    for d, p, c, starts, hint in (
        (
            "aws_access_key_id",
            _B + r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|AIPA)[A-Z0-9]{16}" + _E,
            980,
            ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "AIPA"),
            "",
        ),
        ("gcp_api_key", _B + r"AIza[0-9A-Za-z_-]{35}" + _E, 970, ("AIza",), ""),
        ("gcp_oauth_secret", _B + r"GOCSPX-[0-9A-Za-z_-]{28}" + _E, 970, ("GOCSPX-",), ""),
        (
            "github_token",
            _B + r"gh[pousr]_[A-Za-z0-9]{36,251}" + _E,
            980,
            ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
            "",
        ),
        ("github_pat", _B + r"github_pat_[A-Za-z0-9_]{60,255}" + _E, 980, ("github_pat_",), ""),
        (
            "gitlab_token",
            _B + r"gl(?:pat|dt|ptt|rt|cbt|oas|soat|ft|imt|agent)-[0-9A-Za-z_-]{20,64}" + _E,
            970,
            (
                "glpat-",
                "gldt-",
                "glptt-",
                "glrt-",
                "glcbt-",
                "gloas-",
                "glsoat-",
                "glft-",
                "glimt-",
                "glagent-",
            ),
            "",
        ),
        (
            "slack_token",
            _B + r"xox[abposr]-[0-9A-Za-z-]{10,250}" + _E,
            970,
            ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"),
            "",
        ),
        (
            "stripe_key",
            _B + r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}" + _E,
            970,
            ("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
            "",
        ),
        (
            "openai_key",
            _B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}" + _E,
            970,
            ("sk-",),
            "",
        ),
        (
            "anthropic_key",
            _B + r"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}" + _E,
            970,
            ("sk-ant-",),
            "",
        ),
        ("npm_token", _B + r"npm_[A-Za-z0-9]{36}" + _E, 960, ("npm_",), ""),
        ("pypi_token", _B + r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}" + _E, 970, ("pypi-",), ""),
        ("twilio_key", _B + r"SK[0-9a-f]{32}" + _E, 800, ("SK",), ""),
        ("sendgrid_key", _B + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _E, 970, ("SG.",), ""),
        ("mailgun_key", _B + r"key-[0-9a-z]{32}" + _E, 850, ("key-",), ""),
        (
            "azure_client_secret",
            _B + r"[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}" + _E,
            950,
            (),
            "Q~",
        ),
    )
)

# Found on the lines that hold a keyword; group 1 is the span.
_KEYED: tuple[tuple[str, re.Pattern[str], int], ...] = tuple(
    (d, re.compile(p), c)
    for d, p, c in (
        (
            "aws_secret_access_key",
            r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key|aws_secret)[\"']?\s*[:=]\s*[\"']?"
            r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
            970,
        ),
        ("azure_storage_key", r"(?i:AccountKey)=([A-Za-z0-9+/]{86}==)", 970),
        ("azure_sas_signature", r"[?&]sig=([A-Za-z0-9%+/]{40,}(?:%3D|=){0,2})", 900),
    )
)
_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}
_KEYED_HINTS = ("secret", "accountkey=", "sig=")
_CONN = re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:([^\s:/@]{3,128})@[\w.-]+")
# credentials on a command line: curl -u user:pass, mysql -pPASS
_CLI_AUTH = re.compile(
    r"\b(?:curl|wget|http)\b[^\n]*?\s(?:-u|--user)[ =]['\"]?[^\s:'\"]+:([^\s'\"]{3,128})"
    r"|\bmysql(?:dump|admin)?\b[^\n]*?\s-p([^\s'\"]{3,128})"
)
_SLACK_HOOK = re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9+/_-]{20,}")

_KEY_BLOCK = re.compile(
    r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?PRIVATE KEY(?: BLOCK)?)-----"
)

_JWT = re.compile(
    r"(?<![A-Za-z0-9_.-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_-])"
)

# key [:=] value, in code, configs, env files and YAML; the value is the span
# A secret's key word, found in the lower-cased line (longest alternatives first) ...
_KEY_WORD = re.compile(
    r"password|passwort|passwd|passphrase|pass|pwd|client[_-]?secret|secret[_-]?key|secret|"
    r"api[_-]?key|apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|bearer|"
    r"private[_-]?key|credentials?|kennwort|mot[_ ]de[_ ]passe|contraseña"
)
# ... the identifier it is part of (`db_password`, `SMTP.pass`) ...
_KEY_PREFIX = re.compile(r"(?:[A-Za-z0-9]+[_.-])*$")
# ... and what follows it: more of the key (`_secret`, camelCase `Key`), an assignment, a value.
_ASSIGN_TAIL = re.compile(
    r"((?:[_.-][A-Za-z0-9]+|[A-Z][a-z0-9]*)*)[\"']?[ \t]*(?::=|=>|[:=])[ \t]*"
    r"(?:(\"[^\"\n]{1,200}\"|'[^'\n]{1,200}')|([^\s\"',;)}\]]{1,200}))"
)
_PROSE = re.compile(
    r"(?i)\b(?:password|passwort|passcode|passphrase|pin|mot de passe|contraseña)\s*"
    r"(?:is|was|ist|lautet|est|es|:)\s+"
    r"(?:\"([^\"\n]{4,64})\"|'([^'\n]{4,64})'|`([^`\n]{4,64})`|([^\s\"'`]{4,64}))"
)
# on a line that speaks of a password: "… the temp one is hunter2!"
_PROSE_LATER = re.compile(
    r"(?i)(?:\b(?:is|was|ist|lautet|est|es|är|er|è|é|it's|now|to)|:)\s+[\"'`]?([^\s\"'`]{6,64})"
)
_PASSWORD_WORDS = keywords(
    "password", "passwort", "passcode", "passphrase", "mot de passe", "contraseña", "kennwort"
)
_BEARER = re.compile(r"(?i)\b(?:bearer|token)\s+([A-Za-z0-9._~+/-]{20,}=*)")

_PLACEHOLDER = re.compile(
    r"(?i)^(?:[<\[{(%$].*|.*[>\]}]|x+|\*+|\.+|-+|_+|\?+|#+|none|null|nil|true|false|undefined|"
    r"empty|secret|password|passwd|pass|token|changeme|change_me|change-me|your[_-].*|my[_-].*|"
    r"example.*|dummy.*|placeholder|redacted|required|optional|string|str|bytes|int|"
    r"env\(.*|os\..*|process\.env.*|settings\..*|config\..*|getenv.*|input|prompt|todo|tbd|n/?a|"
    r"!.*|\d{1,7}|.*\(\)?)$"
)
_SHOUTY = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
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
    if len(v) < 4 or _PLACEHOLDER.match(v) or _SHOUTY.fullmatch(v):
        return False  # REPLACE_ME, YOUR_API_KEY: a placeholder or an environment variable's name
    if not quoted:
        if _IDENT.fullmatch(v) and ("_" in v or "." in v):
            return False  # password = user_password, pwd = self.password, KEY=SOME_ENV_NAME
        if v[0] in "([{" or v.endswith((",", "(")):
            return False
        if v.isalpha() and (v.islower() or v.isupper() or v[1:].islower()):
            return False  # "Token: expired", "Secret: unknown": a word, not a password
    return True


_TWO_DIGITS = re.compile(r"\d\D*\d")
_TWO_UPPER = re.compile(r"[A-Z][^A-Z]*[A-Z]")
_TWO_LOWER = re.compile(r"[a-z][^a-z]*[a-z]")
_WORDISH = re.compile(r"[a-z]{4,}|[A-Z][a-z]{3,}")
_HEXISH = re.compile(r"[0-9a-fA-F-]+")


def _looks_random(tok: str) -> bool:
    """A run that reads as generated: mixed classes switching often, high entropy, not hex."""
    n = len(tok)
    if n < 20 or _HEXISH.fullmatch(tok):
        return False  # hex digests, git hashes, UUIDs
    if not (_TWO_DIGITS.search(tok) and _TWO_UPPER.search(tok) and _TWO_LOWER.search(tok)):
        return False
    if class_switches(tok) < n * 0.35:
        return False
    if sum(len(w) for w in _WORDISH.findall(tok)) >= n * 0.4:
        return False  # i18nLocalizationKeyV2: mostly words, an identifier
    return entropy(tok) >= 4.0


_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,512}={0,2}(?![A-Za-z0-9+/=_-])")
# digests and public material: sha512-… integrity, go.sum h1:…, data URIs, ssh public keys
_NOT_SECRET_BEFORE = re.compile(
    r"(?:sha\d{1,3}|md5|integrity|sha|base64,|\bh1:|ssh-rsa|ssh-ed25519|ssh-dss|"
    r"ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)[-:=\"' ]*$"
)
# blocks of public material whose base64 lines are random but no secret
_PUBLIC_BLOCK = re.compile(
    r"-----BEGIN ((?:X509 |TRUSTED )?CERTIFICATE|PUBLIC KEY|RSA PUBLIC KEY|PGP PUBLIC KEY BLOCK|"
    r"CERTIFICATE REQUEST|X509 CRL|PGP SIGNATURE|SSH2 PUBLIC KEY)-----"
)


def _jwt_ok(tok: str) -> bool:
    head = tok.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(b"{") and (b'"alg"' in raw or b'"typ"' in raw)


_LINE_WORDS = (
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "bearer",
    "auth",
    "kennwort",
    "contraseña",
    "pin ",
    "sig=",
)


def secrets(p: Prepared) -> Iterator[Finding]:
    text = p.text
    n = p.n
    public: list[tuple[int, int]] = []
    if "-----BEGIN" in text:
        for m in _PUBLIC_BLOCK.finditer(text):
            end = text.find(f"-----END {m.group(1)}-----", m.end())
            public.append((m.start(), end if end >= 0 else n))
    for s, e in p.tokens():
        if public and any(lo <= s < hi for lo, hi in public):
            continue
        yield from _token(text, s, e, n)
    if "://" in text:
        for lo, hi in p.around("://", 24, 200):
            for m in _CONN.finditer(text, lo, hi):
                yield Finding(m.start(1), m.end(1), SECRET, 920, "connection_string_password")
    for ls, le in p.lines_with(("curl", "wget", "http ", "mysql")):
        for m in _CLI_AUTH.finditer(text, ls, le):
            g = 1 if m.group(1) is not None else 2
            if not _PLACEHOLDER.match(m.group(g)):
                yield Finding(m.start(g), m.end(g), SECRET, 900, "cli_credentials")
    if "hooks.slack.com" in text:
        for m in _SLACK_HOOK.finditer(text):
            yield Finding(m.start(), m.end(), SECRET, 970, "slack_webhook")
    if "-----BEGIN" in text:
        for m in _KEY_BLOCK.finditer(text):
            end_marker = f"-----END {m.group(1)}-----"
            end = text.find(end_marker, m.end())
            stop = end + len(end_marker) if end >= 0 else n
            yield Finding(m.start(), stop, SECRET, 990, "private_key")
    for ls, le in p.lines_with(_LINE_WORDS):
        yield from _line(text, ls, le)


_ALL_STARTS = tuple(p for *_, starts, _hint in _VENDOR for p in starts)
_ALL_HINTS = tuple(hint for *_, hint in _VENDOR if hint)


def _token(text: str, s: int, e: int, n: int) -> Iterator[Finding]:
    tok = text[s:e]
    lo, hi = max(0, s - 1), min(n, e + 2)
    if tok.startswith(_ALL_STARTS) or any(h in tok for h in _ALL_HINTS):
        for detail, pat, conf, starts, hint in _VENDOR:
            if (starts and tok.startswith(starts)) or (hint and hint in tok):
                for m in pat.finditer(text, lo, hi):
                    yield Finding(m.start(), m.end(), SECRET, conf, detail)
    if "eyJ" in tok:
        for m in _JWT.finditer(text, lo, hi):
            if _jwt_ok(m.group()):
                yield Finding(m.start(), m.end(), SECRET, 960, "jwt")
    if len(tok) == 16 and tok.isupper():
        yield from codice_fiscale(text, s, e)
    if tok[:2].islower() and tok[2:4].isdigit():
        f = iban_token(text, s, e)
        if f is not None:
            yield f
    if len(tok) >= 20 and tok.lower() != tok and tok.upper() != tok and not tok.isalpha():
        for m in _RUN.finditer(text, lo, hi):
            yield from _high_entropy(text, m)


def _high_entropy(text: str, m: re.Match[str]) -> Iterator[Finding]:
    tok = m.group()
    if not _looks_random(tok.rstrip("=")):
        return
    ctx = before(text, m.start(), 40)
    if _NOT_SECRET_BEFORE.search(ctx):
        return  # sha512-… integrity strings, base64 data URIs, digests
    keyed = bool(_SECRET_WORDS.search(ctx))
    if not keyed:
        if "/" in tok:
            return  # a path piece unless a key word names it
        if len(tok) > 100:
            return  # a blob of encoded data: keys are shorter, or named
        ws = max(text.rfind(" ", 0, m.start()), text.rfind("\n", 0, m.start()))
        if "://" in text[ws + 1 : m.start()] and "?" not in text[ws + 1 : m.start()]:
            return  # a document id in a URL's path
    yield Finding(m.start(), m.end(), SECRET, 800 if keyed else 700, "high_entropy")


def _line(text: str, ls: int, le: int) -> Iterator[Finding]:
    low = text[ls:le].lower()
    if len(low) != le - ls:  # keep offsets aligned ("İ" lowers to two code points)
        low = text[ls:le].translate(_ASCII_LOWER)
    for (detail, pat, conf), hint in zip(_KEYED, _KEYED_HINTS, strict=True):
        if hint in low:
            for m in pat.finditer(text, ls, le):
                yield Finding(m.start(1), m.end(1), SECRET, conf, detail)
    for k in _KEY_WORD.finditer(low):
        ks, ke = ls + k.start(), ls + k.end()
        if ks > 0 and text[ks - 1].isalnum():
            continue  # bypass, compass: the word is inside another
        a = _ASSIGN_TAIL.match(text, ke, le)
        if a is None:
            continue
        pre = _KEY_PREFIX.search(text, max(ls, ks - 40), ks)
        key = text[pre.start() if pre else ks : a.end(1)]
        if _NOT_SECRET_KEY.search(key):
            continue
        quoted = a.group(2) is not None
        g = 2 if quoted else 3
        value = a.group(g)
        if quoted:
            start, end = a.start(g) + 1, a.end(g) - 1
            value = value[1:-1]
        else:
            start, end = a.start(g), a.end(g)
        if _assignment_value_ok(value, quoted):
            yield Finding(start, end, SECRET, 900, "password_assignment")
    if "bearer" in low or "token" in low:
        for m in _BEARER.finditer(text, ls, le):
            if _looks_random(m.group(1)) or len(m.group(1)) >= 32:
                yield Finding(m.start(1), m.end(1), SECRET, 900, "bearer_token")
    if not ("pass" in low or "pin" in low or "contraseña" in low):
        return
    for m in _PROSE.finditer(text, ls, le):
        g = next(i for i in (1, 2, 3, 4) if m.group(i) is not None)
        v = m.group(g)
        if _PLACEHOLDER.match(v):
            continue
        if g == 4:  # unquoted: a word is prose ("the password is stored …"), not a password
            v = v.rstrip(".,;:)")
            if v.isalpha() and (v == v.lower() or v == v.upper()):
                continue
        yield Finding(m.start(g), m.start(g) + len(v), SECRET, 850, "password_prose")
    kw = _PASSWORD_WORDS.search(low)
    if kw is not None:
        for m in _PROSE_LATER.finditer(text, ls + kw.end(), le):
            v = m.group(1).rstrip(".,;:)")
            letters = sum(c.isalpha() for c in v)
            if 0 < letters < len(v) and len(v) >= 6 and not _PLACEHOLDER.match(v):
                yield Finding(m.start(1), m.start(1) + len(v), SECRET, 750, "password_prose")
