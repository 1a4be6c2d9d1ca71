"""`brain hub serve` as deployed: TLS, and several workers with concurrent clients."""

from __future__ import annotations

import datetime as dt
import ipaddress
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.sync import hubclient as hc
from tests.sync.conftest import HubHandle
from tests.sync.stores import new_store, put


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_hub_serves_tls_when_given_a_certificate(
    hub: HubHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.stop()
    hub.tls = _self_signed(tmp_path)
    hub.start()
    assert hub.url.startswith("https://")
    monkeypatch.setattr(hc, "CA", str(hub.tls[0]))
    token = hub.token("acme", "ana")
    r = hc.whoami(hub.url, "acme", token)
    assert r.status == 200 and r.body["user"] == "ana"


def test_several_workers_and_concurrent_clients_lose_and_double_nothing(
    hub: HubHandle, tmp_path: Path
) -> None:
    hub.stop()
    hub.workers = 2
    hub.start()
    members = [f"m{i}" for i in range(4)]
    tokens = {m: hub.token("acme", m) for m in members}
    stores = {m: new_store(tmp_path / m) for m in members}
    batches = {
        m: [
            [
                put(stores[m], f"memories/facts/{b}-{i}.md", f"{m} {b} {i}\n", "team-public")
                for i in range(5)
            ]
            for b in range(3)
        ]
        for m in members
    }

    def push_all(m: str) -> list[str]:
        out = []
        origin = stores[m].manifest.store_id
        for batch in batches[m]:
            out += [o for _s, o in hc.outcomes(hc.push(hub.url, "acme", tokens[m], origin, batch))]
            out += [o for _s, o in hc.outcomes(hc.push(hub.url, "acme", tokens[m], origin, batch))]
        return out

    with ThreadPoolExecutor(len(members)) as pool:
        outcomes = list(pool.map(push_all, members))
    for got in outcomes:
        assert sorted(got) == ["accepted"] * 15 + ["duplicate"] * 15
    reader = hub.token("acme", "reader")
    r = hc.pull(hub.url, "acme", reader)
    cursors = [i["cursor"] for i in r.body["items"]]
    assert cursors == list(range(1, 61)) and r.body["more"] is False
    keys = {(i["envelope"]["origin"], i["envelope"]["seq"]) for i in r.body["items"]}
    assert len(keys) == 60
