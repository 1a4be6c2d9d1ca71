"""A minimal HTTP client for hub tests (stdlib http.client, as core/sync/client.py uses)."""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec

from core.sync.wire import VERSION, Envelope, PurgeNotice, PushRequest


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any  # decoded JSON


CA: str | None = None  # a test's self-signed certificate, trusted for https URLs


def _connect(url: str) -> http.client.HTTPConnection:
    u = urlsplit(url)
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=CA)
        return http.client.HTTPSConnection(u.hostname or "", u.port, timeout=60, context=ctx)
    return http.client.HTTPConnection(u.hostname or "", u.port, timeout=60)


def call(
    url: str,
    method: str,
    path: str,
    token: str | None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    conn = _connect(url)
    try:
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        raw = r.read()
        data = json.loads(raw) if raw else None
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def whoami(url: str, org: str, token: str | None) -> Reply:
    return call(url, "GET", f"/v1/orgs/{org}/whoami", token)


def push(
    url: str,
    org: str,
    token: str,
    origin: str,
    envelopes: list[Envelope] = (),  # type: ignore[assignment]
    purges: list[PurgeNotice] = (),  # type: ignore[assignment]
) -> Reply:
    req = PushRequest(VERSION, origin, list(envelopes), list(purges))
    return call(url, "POST", f"/v1/orgs/{org}/push", token, msgspec.json.encode(req))


def pull(url: str, org: str, token: str, after: int = 0, limit: int | None = None) -> Reply:
    q = f"?after={after}" + (f"&limit={limit}" if limit is not None else "")
    return call(url, "GET", f"/v1/orgs/{org}/pull{q}", token)


def outcomes(reply: Reply) -> list[tuple[int, str]]:
    assert reply.status == 200, reply.body
    return [(r["seq"], r["outcome"]) for r in reply.body["results"]]


def pulled_paths(reply: Reply) -> list[tuple[str, str]]:
    assert reply.status == 200, reply.body
    out = []
    for it in reply.body["items"]:
        e = it["envelope"] or it["purge"]
        out.append((it["kind"], e["path"]))
    return out
