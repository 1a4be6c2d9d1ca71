"""Random but valid (and near-miss) values for the labelled PII corpus.

Each generator returns pieces `[(text, type_or_None, detail)]`: the labelled piece is what the
detector must report, exactly (a password assignment labels the value, not the key). Values are
made valid with the same libraries a reader would check them with (phonenumbers, python-stdnum),
never with core.pii, so the corpus does not echo the detector.
"""

from __future__ import annotations

import base64
import json
import random
import string

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn

Piece = tuple[str, str | None, str]

B64 = string.ascii_letters + string.digits + "+/"
ALNUM = string.ascii_letters + string.digits


def rs(r: random.Random, alphabet: str, n: int) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def rtoken(r: random.Random, alphabet: str, n: int) -> str:
    """A random token that has every class in it (as generated keys do)."""
    while True:
        t = rs(r, alphabet, n)
        if (
            sum(c.isupper() for c in t) >= 3
            and sum(c.islower() for c in t) >= 3
            and sum(c.isdigit() for c in t) >= 3
        ):
            return t


def until(r: random.Random, make, ok, tries: int = 200_000) -> str:
    for _ in range(tries):
        v = make(r)
        if ok(v):
            return v
    raise RuntimeError("no valid value")


FIRST = [
    "anna",
    "jose",
    "li.wei",
    "fatima",
    "olivier",
    "sven",
    "priya",
    "mehmet",
    "chloe",
    "joao",
    "yuki",
    "ahmed",
    "marta",
    "lukas",
    "sofia",
    "dmitri",
    "aoife",
    "kwame",
    "ines",
    "tomasz",
]
LAST = [
    "schmidt",
    "garcia",
    "nguyen",
    "kowalski",
    "rossi",
    "dubois",
    "okafor",
    "tanaka",
    "silva",
    "johansson",
    "murphy",
    "haddad",
    "novak",
    "fischer",
    "moreau",
    "patel",
    "kim",
    "costa",
]
DOMAINS = [
    "example.com",
    "mail.example.org",
    "firma.de",
    "correo.es",
    "posteo.net",
    "uni-heidelberg.de",
    "company.co.uk",
    "startup.io",
    "laposte.fr",
    "gmail.com",
    "outlook.com",
    "proton.me",
]


def email(r: random.Random) -> list[Piece]:
    f, last = r.choice(FIRST), r.choice(LAST)
    local = r.choice(
        [f"{f}.{last}", f"{f[0]}{last}", f"{f}_{last}{r.randint(1, 99)}", f"{f}+news", last]
    )
    return [(f"{local}@{r.choice(DOMAINS)}", "email", "email")]


def _phone(r: random.Random, region: str, fmt) -> str:
    ex = phonenumbers.example_number_for_type(
        region,
        r.choice([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]),
    )
    nsn = phonenumbers.national_significant_number(ex)

    def make(r: random.Random):
        keep = max(2, len(nsn) - 5)
        n = nsn[:keep] + rs(r, string.digits, len(nsn) - keep)
        return phonenumbers.parse(f"+{ex.country_code}{n}")

    for _ in range(1000):
        num = make(r)
        if phonenumbers.is_valid_number(num):
            break
    else:
        raise RuntimeError(f"no valid {region} number")
    return phonenumbers.format_number(num, fmt)


US_AREAS = ["212", "415", "617", "312", "206", "303", "512", "646", "718", "202", "305", "404"]


def phone_us(r: random.Random) -> list[Piece]:
    def make(r):
        return (
            r.choice(US_AREAS),
            f"{r.randint(2, 9)}{r.randint(0, 9)}{r.randint(0, 9)}",
            f"{r.randint(0, 9999):04d}",
        )

    while True:
        a, b, c = make(r)
        if b == "555" or b[1:] == "11":
            continue
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+1{a}{b}{c}")):
            break
    s = r.choice(
        [f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}", f"+1-{a}-{b}-{c}"]
    )
    return [(s, "phone", "phone")]


def phone_intl(r: random.Random) -> list[Piece]:
    region = r.choice(
        ["GB", "DE", "FR", "ES", "IT", "NL", "IN", "AU", "SE", "PL", "CH", "IE", "BR", "JP"]
    )
    return [(_phone(r, region, phonenumbers.PhoneNumberFormat.INTERNATIONAL), "phone", "phone")]


def phone_national(r: random.Random) -> list[Piece]:
    region = r.choice(["GB", "DE", "FR", "NL", "ES", "IT"])
    return [(_phone(r, region, phonenumbers.PhoneNumberFormat.NATIONAL), "phone", "phone")]


def _luhn_number(r: random.Random, prefix: str, length: int) -> str:
    body = prefix + rs(r, string.digits, length - len(prefix) - 1)
    return body + luhn.calc_check_digit(body)


def _group(d: str, sep: str) -> str:
    if len(d) == 15:
        return sep.join([d[:4], d[4:10], d[10:]])
    return sep.join(d[i : i + 4] for i in range(0, len(d), 4))


def card_digits(r: random.Random) -> str:
    kind = r.choice(["visa", "visa", "mc", "mc2", "amex", "discover"])
    prefix, length = {
        "visa": ("4", 16),
        "mc": (str(r.randint(51, 55)), 16),
        "mc2": (str(r.randint(2221, 2720)), 16),
        "amex": (r.choice(["34", "37"]), 15),
        "discover": ("6011", 16),
    }[kind]
    return _luhn_number(r, prefix, length)


def card(r: random.Random) -> list[Piece]:
    d = card_digits(r)
    return [(r.choice([_group(d, " "), _group(d, "-"), d]), "card", "card")]


def bad_card(r: random.Random) -> list[Piece]:
    d = card_digits(r)
    d = d[:-1] + str((int(d[-1]) + r.randint(1, 9)) % 10)
    return [(r.choice([_group(d, " "), d]), None, "")]


_IBAN_SHAPES = {
    "DE": "n18",
    "GB": "a4n14",
    "FR": "n23",
    "NL": "a4n10",
    "IT": "a1n22",
    "ES": "n20",
    "BE": "n12",
    "CH": "n17",
    "AT": "n16",
    "PL": "n24",
    "IE": "a4n14",
    "PT": "n21",
}


def _bban(r: random.Random, shape: str) -> str:
    out = ""
    i = 0  # shape: pairs like a4n14 (4 letters, 14 digits)
    while i < len(shape):
        kind = shape[i]
        j = i + 1
        while j < len(shape) and shape[j].isdigit():
            j += 1
        n = int(shape[i + 1 : j])
        out += rs(r, string.ascii_uppercase if kind == "a" else string.digits, n)
        i = j
    return out


def iban_compact(r: random.Random) -> str:
    cc = r.choice(list(_IBAN_SHAPES))

    def make(r):
        bban = _bban(r, _IBAN_SHAPES[cc])
        num = int("".join(str(int(c, 36)) for c in bban + cc + "00"))
        return f"{cc}{98 - num % 97:02d}{bban}"

    return until(r, make, std_iban.is_valid)


def iban(r: random.Random) -> list[Piece]:
    c = iban_compact(r)
    grouped = " ".join(c[i : i + 4] for i in range(0, len(c), 4))
    return [(r.choice([grouped, c, grouped]), "iban", "iban")]


def bad_iban(r: random.Random) -> list[Piece]:
    c = iban_compact(r)
    c = c[:2] + f"{(int(c[2:4]) + 1) % 100:02d}" + c[4:]
    return [(" ".join(c[i : i + 4] for i in range(0, len(c), 4)), None, "")]


def ssn(r: random.Random) -> list[Piece]:
    from stdnum.us import ssn as s

    v = until(
        r,
        lambda r: f"{r.randint(1, 899):03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}",
        s.is_valid,
    )
    return [(v, "national_id", "us_ssn")]


def ssn_bare(r: random.Random) -> list[Piece]:
    return [(ssn(r)[0][0].replace("-", r.choice(["", " "])), "national_id", "us_ssn")]


def bad_ssn(r: random.Random) -> list[Piece]:
    v = r.choice(
        [
            f"000-{r.randint(10, 99)}-{r.randint(1000, 9999)}",
            f"666-{r.randint(10, 99)}-{r.randint(1000, 9999)}",
            f"9{r.randint(10, 99)}-{r.randint(10, 99)}-{r.randint(1000, 9999)}",
            f"{r.randint(100, 599)}-00-{r.randint(1000, 9999)}",
        ]
    )
    return [(v, None, "")]


def _date6(r: random.Random) -> str:
    return f"{r.randint(1, 28):02d}{r.randint(1, 12):02d}{r.randint(40, 99):02d}"


def national_id(r: random.Random) -> list[Piece]:
    """A structured id that needs no keyword: DNI, NIE, codice fiscale, NIR, hetu, AHV, CPF, NINO."""
    from stdnum.br import cpf
    from stdnum.ch import ssn as ahv
    from stdnum.es import dni, nie
    from stdnum.fi import hetu
    from stdnum.fr import nir
    from stdnum.it import codicefiscale as cf
    from stdnum.se import personnummer as pnr

    kind = r.choice(
        ["es_dni", "es_nie", "it_cf", "fr_nir", "fi_hetu", "ch_ahv", "br_cpf", "gb_nino", "se_pnr"]
    )
    if kind == "es_dni":
        n = rs(r, string.digits, 8)
        v = n + dni.calc_check_digit(n)
    elif kind == "es_nie":
        v = until(
            r,
            lambda r: (
                r.choice("XYZ") + rs(r, string.digits, 7) + r.choice("TRWAGMYFPDXBNJZSQVHLCKE")
            ),
            nie.is_valid,
        )
    elif kind == "it_cf":
        base = (
            rs(r, "BCDFGLMNPRSTVZ", 3)
            + rs(r, "BCDFGLMNPRSTVZ", 3)
            + f"{r.randint(40, 99)}"
            + r.choice("ABCDEHLMPRST")
            + f"{r.randint(1, 28) + r.choice([0, 40]):02d}"
            + r.choice("ABCDEFGHILM")
            + f"{r.randint(1, 999):03d}"
        )
        v = base + cf.calc_check_digit(base)
    elif kind == "fr_nir":

        def mk(r):
            b = f"{r.randint(1, 2)}{r.randint(40, 99)}{r.randint(1, 12):02d}{r.randint(1, 95):02d}{r.randint(1, 999):03d}{r.randint(1, 999):03d}"
            return b + nir.calc_check_digits(b)

        v = mk(r)
        if r.random() < 0.5:
            v = nir.format(v)
    elif kind == "fi_hetu":
        v = until(
            r,
            lambda r: (
                _date6(r)
                + "-"
                + f"{r.randint(2, 899):03d}"
                + r.choice("0123456789ABCDEFHJKLMNPRSTUVWXY")
            ),
            hetu.is_valid,
        )
    elif kind == "ch_ahv":
        v = until(
            r,
            lambda r: (
                "756."
                + rs(r, string.digits, 4)
                + "."
                + rs(r, string.digits, 4)
                + "."
                + rs(r, string.digits, 2)
            ),
            ahv.is_valid,
        )
    elif kind == "br_cpf":
        v = until(r, lambda r: rs(r, string.digits, 9) + rs(r, string.digits, 2), cpf.is_valid)
        v = f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"
    elif kind == "se_pnr":
        v = until(
            r,
            lambda r: (
                f"{r.choice(['19', '20', ''])}{r.randint(40, 99)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}-{r.randint(0, 9999):04d}"
            ),
            pnr.is_valid,
        )
        if v.startswith("20") and len(v) == 13:
            v = "19" + v[2:] if pnr.is_valid("19" + v[2:]) else v
    else:
        v = (
            r.choice("ABCEHJKLMPRSTWXY")
            + r.choice("ABCEHJKLMNPRSTWXY")
            + " ".join(["", *(f"{r.randint(10, 99)}" for _ in range(3))])
            + " "
            + r.choice("ABCD")
        )
        v = v.replace(" ", "", 1)
    return [(v, "national_id", kind)]


def keyed_id(r: random.Random) -> list[Piece]:
    """A bare-digit id with its keyword: BSN, Steuer-ID, NHS, PESEL, Aadhaar, SIN, CPR."""
    from stdnum import verhoeff
    from stdnum.ca import sin
    from stdnum.de import idnr
    from stdnum.gb import nhs
    from stdnum.nl import bsn
    from stdnum.pl import pesel

    kind = r.choice(["bsn", "idnr", "nhs", "pesel", "aadhaar", "sin", "ssn"])
    if kind == "bsn":
        return [
            ("BSN: ", None, ""),
            (until(r, lambda r: rs(r, string.digits, 9), bsn.is_valid), "national_id", "nl_bsn"),
        ]
    if kind == "idnr":
        return [
            (r.choice(["Steuer-ID ", "Steuer-IdNr.: ", "Identifikationsnummer "]), None, ""),
            (
                until(r, lambda r: str(r.randint(1, 9)) + rs(r, string.digits, 10), idnr.is_valid),
                "national_id",
                "de_idnr",
            ),
        ]
    if kind == "nhs":
        v = until(r, lambda r: rs(r, string.digits, 10), nhs.is_valid)
        return [("NHS number ", None, ""), (f"{v[:3]} {v[3:6]} {v[6:]}", "national_id", "gb_nhs")]
    if kind == "pesel":
        v = until(
            r,
            lambda r: (
                f"{r.randint(40, 99)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
                + rs(r, string.digits, 5)
            ),
            pesel.is_valid,
        )
        return [("PESEL ", None, ""), (v, "national_id", "pl_pesel")]
    if kind == "aadhaar":
        b = str(r.randint(2, 9)) + rs(r, string.digits, 10)
        v = b + verhoeff.calc_check_digit(b)
        return [
            ("Aadhaar no. ", None, ""),
            (f"{v[:4]} {v[4:8]} {v[8:]}", "national_id", "in_aadhaar"),
        ]
    if kind == "sin":
        v = until(r, lambda r: str(r.randint(1, 7)) + rs(r, string.digits, 8), sin.is_valid)
        return [("SIN ", None, ""), (f"{v[:3]} {v[3:6]} {v[6:]}", "national_id", "ca_sin")]
    return [("SSN ", None, ""), *ssn_bare(r)]


def ipv4(r: random.Random) -> list[Piece]:
    v = r.choice(
        [
            f"{r.choice([23, 31, 45, 52, 81, 91, 104, 142, 185, 203, 213])}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
            f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
            f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}",
            f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
        ]
    )
    return [(v, "ip", "ipv4")]


def ipv6(r: random.Random) -> list[Piece]:
    g = [f"{r.randint(0, 0xFFFF):x}" for _ in range(8)]
    v = r.choice(
        [
            "2001:db8:" + ":".join(g[:6]),
            f"2a02:{g[0]}:{g[1]}::{g[2]}",
            f"fe80::{g[0]}:{g[1]}:{g[2]}:{g[3]}",
            f"2606:4700:{g[0]}::{g[1]}",
        ]
    )
    return [(v, "ip", "ipv6")]


def aws_key(r: random.Random) -> list[Piece]:
    return [
        (
            r.choice(["AKIA", "ASIA"]) + rs(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
            "secret",
            "aws_access_key_id",
        )
    ]


def aws_secret(r: random.Random) -> list[Piece]:
    return [(rtoken(r, B64, 40), "secret", "aws_secret_access_key")]


def gcp_key(r: random.Random) -> list[Piece]:
    return [("AIza" + rtoken(r, ALNUM + "_-", 35), "secret", "gcp_api_key")]


def github_token(r: random.Random) -> list[Piece]:
    if r.random() < 0.25:
        return [
            (
                "github_pat_" + rtoken(r, ALNUM, 22) + "_" + rtoken(r, ALNUM, 59),
                "secret",
                "github_pat",
            )
        ]
    return [(r.choice(["ghp_", "gho_", "ghs_"]) + rtoken(r, ALNUM, 36), "secret", "github_token")]


def gitlab_token(r: random.Random) -> list[Piece]:
    return [("glpat-" + rtoken(r, ALNUM + "_-", 20), "secret", "gitlab_token")]


def slack_token(r: random.Random) -> list[Piece]:
    v = f"xox{r.choice('bp')}-{r.randint(10**10, 10**11)}-{r.randint(10**10, 10**11)}-{rtoken(r, ALNUM, 24)}"
    return [(v, "secret", "slack_token")]


def stripe_key(r: random.Random) -> list[Piece]:
    return [(f"sk_live_{rtoken(r, ALNUM, 24)}", "secret", "stripe_key")]


def private_key(r: random.Random) -> list[Piece]:
    kind = r.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"])
    lines = [rs(r, B64, 64) for _ in range(r.randint(3, 6))] + [rs(r, B64, 20) + "=="]
    block = f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----"
    return [(block, "secret", "private_key")]


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def jwt(r: random.Random) -> list[Piece]:
    head = _b64url(json.dumps({"alg": r.choice(["HS256", "RS256"]), "typ": "JWT"}).encode())
    body = _b64url(
        json.dumps(
            {
                "sub": str(r.randint(1, 10**6)),
                "name": r.choice(FIRST),
                "iat": r.randint(1_600_000_000, 1_800_000_000),
            }
        ).encode()
    )
    sig = _b64url(r.randbytes(32))
    return [(f"{head}.{body}.{sig}", "secret", "jwt")]


PASSWORDS = [
    "hunter2!",
    "Tr0ub4dor&3",
    "correct-horse-battery-9",
    "S3cr3tP@ss",
    "Winter2024!",
    "p4ssw0rd#77",
    "Zx9!qL2#vB",
    "m0nkey$Bus",
    "kaffee&Kuchen7",
    "Contraseña_2023",
]


def password(r: random.Random) -> list[Piece]:
    return [
        (
            r.choice(PASSWORDS) + (str(r.randint(0, 99)) if r.random() < 0.5 else ""),
            "secret",
            "password",
        )
    ]


def api_token(r: random.Random) -> list[Piece]:
    """A generic generated key with no vendor prefix."""
    return [(rtoken(r, ALNUM, r.choice([32, 40, 48])), "secret", "high_entropy")]


def pg_url(r: random.Random) -> list[Piece]:
    scheme = r.choice(["postgres", "postgresql", "mysql", "mongodb", "redis", "amqp"])
    user = r.choice(["app", "admin", "svc_reports", "deploy"])
    pw = r.choice(PASSWORDS).replace("@", "x").replace("/", "x").replace(":", "x").replace("#", "x")
    host = r.choice(["db.internal", "prod-db.example.com", "cache.example.net"])
    return [
        (f"{scheme}://{user}:", None, ""),
        (pw, "secret", "connection_string_password"),
        (f"@{host}:5432/app", None, ""),
    ]


# ---- near misses: values that look like PII and are not -----------------------------------------


def uuid(r: random.Random) -> list[Piece]:
    h = rs(r, "0123456789abcdef", 32)
    return [(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}", None, "")]


def sha256(r: random.Random) -> list[Piece]:
    return [(rs(r, "0123456789abcdef", 64), None, "")]


def git_sha(r: random.Random) -> list[Piece]:
    return [(rs(r, "0123456789abcdef", r.choice([40, 40, 12, 7])), None, "")]


def version4(r: random.Random) -> list[Piece]:
    return [
        (f"{r.randint(1, 20)}.{r.randint(0, 30)}.{r.randint(0, 9)}.{r.randint(0, 200)}", None, "")
    ]


def semver(r: random.Random) -> list[Piece]:
    return [(f"{r.randint(0, 9)}.{r.randint(0, 40)}.{r.randint(0, 20)}", None, "")]


def order_no(r: random.Random) -> list[Piece]:
    return [(str(r.randint(10**7, 10**12)), None, "")]


def date(r: random.Random) -> list[Piece]:
    y, m, d = r.randint(2015, 2026), r.randint(1, 12), r.randint(1, 28)
    return [
        (
            r.choice(
                [
                    f"{y}-{m:02d}-{d:02d}",
                    f"{d:02d}.{m:02d}.{y}",
                    f"{m:02d}/{d:02d}/{y}",
                    f"{y}-{m:02d}-{d:02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z",
                ]
            ),
            None,
            "",
        )
    ]


def unix_ts(r: random.Random) -> list[Piece]:
    return [(str(r.randint(1_500_000_000, 1_800_000_000)) + r.choice(["", "123"]), None, "")]


def b64_blob(r: random.Random) -> list[Piece]:
    return [(rs(r, B64, r.choice([60, 120])) + "==", None, "")]


def amount(r: random.Random) -> list[Piece]:
    return [
        (
            f"{r.randint(1, 999)},{r.randint(0, 999):03d},{r.randint(0, 999):03d}.{r.randint(0, 99):02d}",
            None,
            "",
        )
    ]


def mac(r: random.Random) -> list[Piece]:
    return [(":".join(f"{r.randint(0, 255):02X}" for _ in range(6)), None, "")]


GEN = {
    k: v
    for k, v in globals().items()
    if callable(v)
    and not k.startswith("_")
    and k not in {"rs", "rtoken", "until", "card_digits", "iban_compact"}
}


def phone_uk_zero(r: random.Random) -> list[Piece]:
    """+44 (0)20 7946 0958: the trunk zero kept in brackets, as British signatures write it."""
    v = _phone(r, "GB", phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    cc, rest = v.split(" ", 1)
    return [(f"{cc} (0){rest}", "phone", "phone")]


def phone_e164(r: random.Random) -> list[Piece]:
    region = r.choice(["US", "GB", "DE", "FR", "AU", "NL"])
    return [(_phone(r, region, phonenumbers.PhoneNumberFormat.E164), "phone", "phone")]


def ssh_pubkey(r: random.Random) -> list[Piece]:
    kind = r.choice(
        ["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"]
    )
    return [(kind + rs(r, B64, r.choice([44, 200])) + f" {r.choice(FIRST)}@laptop", None, "")]


def cert_block(r: random.Random) -> list[Piece]:
    kind = r.choice(["CERTIFICATE", "PUBLIC KEY"])
    lines = [rs(r, B64, 64) for _ in range(r.randint(3, 6))]
    return [(f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----", None, "")]


def go_sum(r: random.Random) -> list[Piece]:
    return [
        (
            f"github.com/{r.choice(LAST)}/lib v1.{r.randint(0, 9)}.{r.randint(0, 9)} h1:{rs(r, B64, 43)}=",
            None,
            "",
        )
    ]


def isbn(r: random.Random) -> list[Piece]:
    from stdnum import isbn as std_isbn

    b = "978" + rs(r, string.digits, 9)
    v = b + std_isbn.ean.calc_check_digit(b)
    return [(f"{v[:3]}-{v[3]}-{v[4:7]}-{v[7:12]}-{v[12]}", None, "")]


def ean(r: random.Random) -> list[Piece]:
    from stdnum import ean as std_ean

    b = r.choice(["40", "50", "76", "87"]) + rs(r, string.digits, 10)
    return [(b + std_ean.calc_check_digit(b), None, "")]


def coords(r: random.Random) -> list[Piece]:
    return [(f"{r.uniform(-80, 80):.4f}, {r.uniform(-170, 170):.4f}", None, "")]


def k8s_b64_secret(r: random.Random) -> list[Piece]:
    return [(base64.b64encode(r.choice(PASSWORDS).encode()).decode(), "secret", "password")]


def ipv4_public(r: random.Random) -> list[Piece]:
    v = f"{r.choice([23, 31, 45, 52, 81, 91, 104, 142, 185, 203, 213])}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    return [(v, "ip", "ipv4")]


def amazon_order(r: random.Random) -> list[Piece]:
    return [
        (
            f"{r.randint(100, 999)}-{r.randint(10**6, 10**7 - 1)}-{r.randint(10**6, 10**7 - 1)}",
            None,
            "",
        )
    ]


def npm_token(r: random.Random) -> list[Piece]:
    return [("npm_" + rtoken(r, ALNUM, 36), "secret", "npm_token")]


def gcp_oauth(r: random.Random) -> list[Piece]:
    return [("GOCSPX-" + rtoken(r, ALNUM + "_-", 28), "secret", "gcp_oauth_secret")]


GEN = {
    k: v
    for k, v in globals().items()
    if callable(v)
    and not k.startswith("_")
    and k not in {"rs", "rtoken", "until", "card_digits", "iban_compact"}
}


def openai_key(r: random.Random) -> list[Piece]:
    v = "sk-proj-" + rtoken(r, ALNUM, 32) + "T3BlbkFJ" + rtoken(r, ALNUM, 32)
    return [(v, "secret", "openai_key")]


def es_dni(r: random.Random) -> list[Piece]:
    from stdnum.es import dni

    n = rs(r, string.digits, 8)
    return [(n + dni.calc_check_digit(n), "national_id", "es_dni")]


GEN = {
    k: v
    for k, v in globals().items()
    if callable(v)
    and not k.startswith("_")
    and k not in {"rs", "rtoken", "until", "card_digits", "iban_compact"}
}
