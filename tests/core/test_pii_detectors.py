"""core.pii: each detector finds what it should with the exact span, and near misses stay
quiet (invalid checksums, versions, UUIDs, digests, order numbers, dates, placeholders)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.pii import TYPES, Finding, scan, scan_path
from core.pii.checksums import class_switches, entropy, luhn_ok, mod97_ok
from core.pii.findings import resolve


def spans(text: str, type_: str | None = None) -> list[str]:
    return [text[f.start : f.end] for f in scan(text) if type_ is None or f.type == type_]


def only(text: str, type_: str) -> str:
    found = scan(text)
    assert len(found) == 1, found
    assert found[0].type == type_, found
    return text[found[0].start : found[0].end]


# ---- the model ----------------------------------------------------------------------------


def test_finding_fields_are_integers_and_names() -> None:
    f = scan("write to anna.schmidt@example.com today")[0]
    assert isinstance(f, Finding)
    assert (f.type, f.start, f.end) == ("email", 9, 33)
    assert isinstance(f.confidence, int) and 0 < f.confidence <= 1000
    assert f.detail == "email"
    assert set(TYPES) == {"email", "phone", "card", "iban", "national_id", "ip", "secret"}


def test_resolve_keeps_the_stronger_of_overlapping_findings() -> None:
    a = Finding(0, 10, "secret", 700, "high_entropy")
    b = Finding(2, 8, "secret", 960, "jwt")
    c = Finding(12, 20, "ip", 900, "ipv4")
    assert resolve([a, b, c]) == [b, c]
    assert resolve([]) == []


def test_clean_text_has_no_findings() -> None:
    text = (
        "Standup notes: shipped the importer, fixed the flaky test, next up is the search "
        "ranking. Lunch at 12:30 in room 4.12; budget 1,250 EUR; see RFC 6962 section 2.1."
    )
    assert scan(text) == []
    assert scan("") == []


# ---- checksums ----------------------------------------------------------------------------


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert mod97_ok("DE89370400440532013000") and not mod97_ok("DE88370400440532013000")
    assert entropy("aaaa") == 0.0 and entropy("abcd") == 2.0
    assert class_switches("abcDEF123") == 2


# ---- e-mail -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("mail anna.schmidt@example.com.", "anna.schmidt@example.com"),
        ('From: "Li Wei" <li.wei+news@mail.example.org>', "li.wei+news@mail.example.org"),
        ('<a href="mailto:jose@correo.es">', "jose@correo.es"),
        ("Kontakt: müller@beispiel.de", "müller@beispiel.de"),
    ],
)
def test_email(text: str, want: str) -> None:
    assert only(text, "email") == want


@pytest.mark.parametrize(
    "text",
    [
        "icon@2x.png and logo@3x.webp",
        "git clone git@github.com:org/repo.git",
        "npm i lodash@4.17.21 @babel/core",
        "decorator @property and @app.route('/x')",
    ],
)
def test_email_near_misses(text: str) -> None:
    assert spans(text, "email") == []


def test_url_userinfo_is_a_password_not_an_email() -> None:
    text = "DATABASE_URL=postgres://app:Tr0ub4dor3@db.internal:5432/app"
    assert spans(text, "email") == []
    assert spans(text, "secret") == ["Tr0ub4dor3"]


# ---- phones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("call me on +44 20 7946 0958 tomorrow", "+44 20 7946 0958"),
        ("Customer callback: (415) 555-2671.", "(415) 555-2671"),
        ("Tel. 030 901820", "030 901820"),
        ("mobile: +33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ('<a href="tel:+14155552671">', "+14155552671"),
        ("T +44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
    ],
)
def test_phone(text: str, want: str) -> None:
    assert only(text, "phone") == want


@pytest.mark.parametrize(
    "text",
    [
        "order 4155552671 shipped",  # a bare run of digits is a record number
        "Invoice #2023004512 is overdue",
        "meeting on 2024-03-15, or 15.03.2024, or 03/15/2024",
        "ts=1710498151123",
        "the population was 12.345.678 in 2020",
        "ticket 555-2671",  # too short to be a valid number anywhere
        "+99 1234 5678",  # no such country code
    ],
)
def test_phone_near_misses(text: str) -> None:
    assert spans(text, "phone") == []


# ---- cards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want", "detail"),
    [
        ("card 4111 1111 1111 1111 exp 09/27", "4111 1111 1111 1111", "visa"),
        ("card=5105-1051-0510-5100;", "5105-1051-0510-5100", "mastercard"),
        ("amex 3714 496353 98431", "3714 496353 98431", "amex"),
        ('"card_number": "6011000990139424"', "6011000990139424", "discover"),
    ],
)
def test_card(text: str, want: str, detail: str) -> None:
    found = [f for f in scan(text) if f.type == "card"]
    assert [text[f.start : f.end] for f in found] == [want]
    assert found[0].detail == detail


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails Luhn",
        "id 1234567812345678",  # Luhn-valid? no: and no issuer starts with 1
        "EAN 4006381333931 on the box",
        "values 4111.1111111111111 and 4111111111111111.5",
        "tracking 9400 1000 0000 0000 0000 00",
    ],
)
def test_card_near_misses(text: str) -> None:
    assert spans(text, "card") == []


# ---- IBAN ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("IBAN DE89 3704 0044 0532 0130 00 EUR", "DE89 3704 0044 0532 0130 00"),
        ("to GB82WEST12345698765432.", "GB82WEST12345698765432"),
        ("Wire to NL91 ABNA 0417 1643 00, ref ACME-2291.", "NL91 ABNA 0417 1643 00"),
        ("iban: fr1420041010050500013m02606", "fr1420041010050500013m02606"),
    ],
)
def test_iban(text: str, want: str) -> None:
    assert only(text, "iban") == want


@pytest.mark.parametrize(
    "text", ["IBAN DE88 3704 0044 0532 0130 00", "GB82WEST1234569876543", "AB12 3456 7890 1234 56"]
)
def test_iban_near_misses(text: str) -> None:
    assert spans(text, "iban") == []


# ---- national ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want", "detail"),
    [
        ("SSN 536-22-8726 on file", "536-22-8726", "us_ssn"),
        ("ssn: 536 22 8726", "536 22 8726", "us_ssn"),
        ("DNI 12345678Z", "12345678Z", "es_dni"),
        ("NIE X1234567L", "X1234567L", "es_nie"),
        ("Codice fiscale RSSMRA85T10A562S.", "RSSMRA85T10A562S", "it_codice_fiscale"),
        ("NIR 2 95 10 99 126 111 93", "2 95 10 99 126 111 93", "fr_nir"),
        ("BSN: 111222333", "111222333", "nl_bsn"),
        ("Steuer-ID 86095742719", "86095742719", "de_idnr"),
        ("NHS number 943 476 5919", "943 476 5919", "gb_nhs"),
        ("personnummer 811218-9876", "811218-9876", "se_personnummer"),
        ("hetu 131052-308T", "131052-308T", "fi_hetu"),
        ("PESEL 44051401359", "44051401359", "pl_pesel"),
        ("AHV 756.1234.5678.97", "756.1234.5678.97", "ch_ahv"),
        ("CPF 390.533.447-05", "390.533.447-05", "br_cpf"),
        ("Aadhaar 2341 2341 2346", "2341 2341 2346", "in_aadhaar"),
        ("SIN 296 030 620", "296 030 620", "ca_sin"),
        ("NINO JG 10 37 59 A", "JG 10 37 59 A", "gb_nino"),
    ],
)
def test_national_id(text: str, want: str, detail: str) -> None:
    found = [f for f in scan(text) if f.type == "national_id"]
    assert [(text[f.start : f.end], f.detail) for f in found] == [(want, detail)]


@pytest.mark.parametrize(
    "text",
    [
        "SSN 000-12-3456 and 666-45-6789 and 987-65-4321",  # never issued
        "SSN 078-05-1120",  # the Woolworth wallet number
        "order 536228726 shipped",  # nine digits without a keyword
        "record 111222333",  # a valid BSN checksum, but nothing says BSN
        "DNI 12345678A",  # wrong check letter
        "part no 86095742719",  # a valid Steuer-ID checksum without its keyword
        "ISBN 978-3-16-148410-0",
        "job 19811218-9876 finished",  # a personnummer's shape after a record word
    ],
)
def test_national_id_near_misses(text: str) -> None:
    assert spans(text, "national_id") == []


# ---- IP addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("server at 198.51.100.23 refused", "198.51.100.23"),
        ("ssh deploy@203.0.113.9", "203.0.113.9"),
        ("listening on 10.0.0.12:8080", "10.0.0.12"),
        ("upstream [2001:db8::1]:443", "2001:db8::1"),
        ("addr 2001:db8:0:0:1:0:0:1 up", "2001:db8:0:0:1:0:0:1"),
        ("moved to 192.168.1.23 last week", "192.168.1.23"),
    ],
)
def test_ip(text: str, want: str) -> None:
    assert only(text, "ip") == want


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3.4 of the firmware",  # a version word before it
        "v1.2.3.4",
        "requests==2.31.0.1",
        "Chrome/120.0.6099.109 Safari/537.36",
        "Kubernetes 1.29.3.2 hotfix",  # a product name before small parts
        "Release notes for 4.2.0.1: fixed the importer",
        "oid 1.3.6.1.4.1.2021.10",  # part of a longer dotted number
        "listen 127.0.0.1 and 0.0.0.0 and [::1] and ::",  # loopback, unspecified
        "netmask 255.255.255.0",
        'ALLOWED = ["10.0.0.0/8", "172.16.0.0/12"]',  # ranges, not hosts
        "MAC 00:1A:2B:3C:4D:5E at 12:30:45",
        "std::vector<int> and Foo::Bar::baz",
        "see 3.2.1.5 in the manual; Section 4.1.2.3 says otherwise",
    ],
)
def test_ip_near_misses(text: str) -> None:
    assert spans(text, "ip") == []


# ---- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want", "detail"),
    [
        ("key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE", "aws_access_key_id"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key",
        ),
        (
            'apiKey: "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"',
            "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
            "gcp_api_key",
        ),
        (
            "token ghp_16C7e42F292c6912E7710c838347Ae178B4a leaked",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "github_token",
        ),
        ("glpat-xYz12AbC34dEf56GhI78j", "glpat-xYz12AbC34dEf56GhI78j", "gitlab_token"),
        (
            "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
            "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
            "slack_token",
        ),
        ("DB_PASS=q9T!fz2#Lm", "q9T!fz2#Lm", "password_assignment"),
        ('"password": "S0methingL0ng&Secret",', "S0methingL0ng&Secret", "password_assignment"),
        ("my password is hunter2!", "hunter2!", "password_prose"),
        ("curl -u admin:Zx9qL2vB https://ci.example.com", "Zx9qL2vB", "cli_credentials"),
    ],
)
def test_secret(text: str, want: str, detail: str) -> None:
    found = [f for f in scan(text) if f.type == "secret"]
    assert [(text[f.start : f.end], f.detail) for f in found] == [(want, detail)]


def test_private_key_block_is_one_finding() -> None:
    body = "MIIEowIBAAKCAQEAx4Yl0b3qQ\nZ9v8kT2mQ1pL7rN4sW6uY8aC0eG2iK4mO6qS8uW0yA2cE4gI6k="
    block = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    text = f'KEY = """{block}"""\n'
    found = scan(text)
    assert [(f.type, text[f.start : f.end], f.detail) for f in found] == [
        ("secret", block, "private_key")
    ]


def test_jwt() -> None:
    jwt = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
        "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    text = f"Authorization: Bearer {jwt}"
    found = scan(text)
    assert [(text[f.start : f.end], f.detail) for f in found] == [(jwt, "jwt")]


def test_high_entropy_needs_a_generated_look() -> None:
    tok = "Xq7Lp2Rk9Tz4Mv8Wb3Nc6Hd1Jf5Gs0Ya"
    assert spans(f"x-api-key: {tok}") == [tok]
    assert spans(f"session={tok}; HttpOnly") == [tok]


@pytest.mark.parametrize(
    "text",
    [
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",  # git hash
        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "id 123e4567-e89b-12d3-a456-426614174000",  # UUID
        '"integrity": "sha512-4pAqcdMWem7THHXp2A+qOYu8IPYW9LLxg2mJYvWAs9rXdSdiiKjbei5ELDZF=="',
        "github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAqcdMWem7THHXp2A+qOYu8IPYW9LLxg2mJ anna@laptop",
        "img src=data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
        "class AbstractSingletonProxyFactoryBean extends HTTPRequestHandler2",
        "https://docs.google.com/document/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit",
        "password = os.environ['DB_PASSWORD']",
        'password: "<your password here>"',
        "password: ${DB_PASSWORD}",
        "password = getpass.getpass()",
        "self.password = password",
        'api_key: "REPLACE_ME"',
        "max_tokens = 4096\ntoken_count = 12000\npassword_min_length: 12",
        "passwordless login is enabled; the password policy is strict",
        "Token: expired\nSecret: unknown",
        "base64EncodeUTF8StringToB64Url and i18nLocalizationKeyV2ForUSEnglish",
        'blob = "d09GMgABAAAAAAZkAA0AAAAADSgAAAYPAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGhYbHhwgBmAAbBEICoo0iBsLEAABNgIkAxwEIAWDJgdWG4EKUZQNkgGTvu8LzwKOx3YkDD9sxGs5jaR6bHDn"',
        "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n"
        "RTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD\n-----END CERTIFICATE-----",
    ],
)
def test_secret_near_misses(text: str) -> None:
    assert spans(text, "secret") == []


# ---- paths --------------------------------------------------------------------------------


def test_scan_path_reports_spans_in_the_path() -> None:
    path = "memories/facts/people/anna.schmidt@example.com.md"
    found = scan_path(path)
    assert [(f.type, path[f.start : f.end]) for f in found] == [
        ("email", "anna.schmidt@example.com")
    ]
    path = "memories/facts/hr/ssn_536-22-8726/notes.md"
    assert [path[f.start : f.end] for f in scan_path(path)] == ["536-22-8726"]


def test_scan_path_clean_and_slugs() -> None:
    assert scan_path("memories/facts/captured/notes/standup-2024-03-15-3f7a9c1.md") == []
    assert scan_path("memories/facts/meridian/mer-361-the-model-server.md") == []


# ---- robustness ---------------------------------------------------------------------------

_ALPHABET = (
    "0123456789٠١٢٣٤٥٦٧٨٩０１２３ .,:;-+/()#@=_'\"\n\tabcXYZéİßΣ中AKIAghp_eyJ-----BEGIN PRIVATE KEY"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=200))
def test_scan_never_raises_and_spans_are_sound(text: str) -> None:
    found = scan(text)
    for a, b in zip(found, found[1:], strict=False):
        assert a.end <= b.start  # in order, never overlapping
    for f in found:
        assert 0 <= f.start < f.end <= len(text)
        assert f.type in TYPES


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "+44 20 7946 0958",
                "١٢٣.٤٥.٦٧.٨٩",
                "4111 1111 1111 1111",
                "536-22-8726",
                "10.0.0.1",
                "::",
                "İstanbul",
                "x",
                " ",
                "\n",
            ]
        ),
        max_size=12,
    )
)
def test_scan_of_joined_fragments(parts: list[str]) -> None:
    text = "".join(parts)
    for f in scan(text):
        assert 0 <= f.start < f.end <= len(text)
