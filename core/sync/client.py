"""HTTP to the hub (`brain-sync/v1`, docs/sync.md): stdlib `http.client`, one keep-alive
connection, a bearer token on every request. Errors become `SyncError` subclasses whose
messages say what to do; `retry_after` (seconds) is set when waiting helps.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import ssl
import time
import urllib.parse

import msgspec

from core.errors import BrainError
from core.sync import wire

TIMEOUT_S = 30.0
SHORT_WAIT_S = 10.0
MAX_SHORT_WAITS = 3
MAX_REPLY_BYTES = 256 * 1024 * 1024  # a pull page of MAX_BATCH envelopes with bodies at the limit


class SyncError(BrainError):
    """A pass could not talk to the hub; `retry_after` says when trying again may help (None:
    not before a person acts)."""

    retry_after: float | None = None

    def __init__(self, msg: str, retry_after: float | None = None) -> None:
        super().__init__(msg)
        if retry_after is not None:
            self.retry_after = retry_after


class HubUnreachable(SyncError):
    retry_after = 2.0


class Unauthenticated(SyncError):
    """401: no token, a bad one, or an expired one."""


class Forbidden(SyncError):
    """403: revoked device, another org's token, a store bound to another device."""


class TooLarge(SyncError):
    """413."""


class RateLimited(SyncError):
    retry_after = 1.0


class TlsFailed(SyncError):
    """The hub's certificate did not verify (or TLS failed): nothing was sent."""

    retry_after = 60.0


class HubFailed(SyncError):
    """5xx, or a reply that is not `brain-sync/v1`."""

    retry_after = 2.0


class ReplyTooLarge(HubFailed):
    """A reply larger than MAX_REPLY_BYTES, refused unread: a pull asks for fewer items."""


def org_of_token(token: str) -> str:
    """The `org` claim of a JWT, read without checking it (the hub checks it): it names the
    org in every path."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        org = claims["org"]
    except (IndexError, KeyError, ValueError, TypeError, binascii.Error):
        raise Unauthenticated(
            "the token is not a hub token (a JWT with an org claim); ask the hub operator for"
            " one (`brain hub add-user ORG USER --device D`)"
        ) from None
    if not isinstance(org, str) or not org:
        raise Unauthenticated("the token names no org; ask the hub operator for a new one")
    return org


def _tls_context(ca_file: str) -> ssl.SSLContext:
    """The TLS context, built once: a CA file that is not PEM fails here, before any request."""
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except ssl.SSLError as e:
        what = "no PEM certificate in it" if "NO_CERTIFICATE" in str(e) else e.reason or str(e)
        raise BrainError(
            f"--ca-file {ca_file}: not a CA certificate file ({what}); give the PEM file of"
            " the CA that signed the hub's certificate"
        ) from None
    except OSError as e:
        raise BrainError(f"--ca-file {ca_file}: cannot read it ({e.strerror or e})") from None


class HubClient:
    def __init__(
        self, url: str, org: str, token: str, *, timeout: float = TIMEOUT_S, ca_file: str = ""
    ) -> None:
        usage = "use http://HOST:PORT or https://HOST:PORT"
        try:
            u = urllib.parse.urlsplit(url)
            port = u.port
        except ValueError as e:
            # urlsplit: "Invalid IPv6 URL"; .port: "Port out of range 0-65535" or not a number.
            why = str(e).rstrip(".")
            why = why[:1].lower() + why[1:]
            raise BrainError(f"hub URL {url!r}: {why}; {usage}") from None
        if u.scheme not in ("http", "https") or not u.hostname:
            raise BrainError(f"hub URL {url!r}: {usage}")
        if port == 0:
            raise BrainError(f"hub URL {url!r}: port 0 is not a port to connect to; {usage}")
        self.url = url.rstrip("/")
        self.org = org
        self.token = token
        self._https = u.scheme == "https"
        self._host = u.hostname
        self._port = port or (443 if self._https else 80)
        self._base = u.path.rstrip("/")
        self._timeout = timeout
        self.ca_file = ca_file
        self._tls = _tls_context(ca_file) if self._https else None
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host,
                    self._port,
                    timeout=self._timeout,
                    context=self._tls,
                )
            else:
                self._conn = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout
                )
        return self._conn

    def request(self, method: str, route: str, body: bytes | None = None) -> bytes:
        """One request. A short rate-limit wait (≤ SHORT_WAIT_S, the hub's Retry-After) is
        waited out here, a few times: a first sync of a large org pages faster than the
        per-user rate, and failing the pass for a second's wait would only delay it more."""
        for _ in range(MAX_SHORT_WAITS):
            try:
                return self._request_once(method, route, body)
            except RateLimited as e:
                wait = e.retry_after or 1.0
                if wait > SHORT_WAIT_S:
                    raise
                time.sleep(wait)
        return self._request_once(method, route, body)

    def _request_once(self, method: str, route: str, body: bytes | None) -> bytes:
        """A connection the hub closed since the last request is reopened once."""
        path = f"{self._base}/v1/orgs/{urllib.parse.quote(self.org, safe='')}/{route}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = _read_bounded(resp)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                if attempt == 1:
                    continue  # a kept-alive connection the server had dropped
                raise HubUnreachable(
                    f"the hub at {self.url} dropped the connection ({e})"
                ) from None
            except ssl.SSLError as e:
                self.close()
                raise TlsFailed(
                    f"TLS with the hub at {self.url} failed ({e}); if its certificate comes from"
                    " a private CA, join with `--ca-file CA.pem`"
                ) from None
            except (TimeoutError, OSError, http.client.HTTPException) as e:
                self.close()
                raise HubUnreachable(
                    f"cannot reach the hub at {self.url} ({e}); is it running?"
                ) from None
            if data is None:
                self.close()  # the rest of it is never read
                raise ReplyTooLarge(
                    f"the hub's reply is larger than {MAX_REPLY_BYTES} bytes, the most this"
                    " client reads"
                )
            if resp.will_close:
                self.close()
            if resp.status >= 400:
                raise _error(resp.status, data, resp.getheader("Retry-After"), self.url)
            return data
        raise AssertionError("unreachable")

    def whoami(self) -> wire.Whoami:
        return _decode(self.request("GET", "whoami"), wire.Whoami)

    def push(self, req: wire.PushRequest) -> wire.PushReply:
        return _decode(self.request("POST", "push", msgspec.json.encode(req)), wire.PushReply)

    def pull(self, after: int, limit: int = wire.MAX_BATCH) -> bytes:
        """The raw PullReply (the puller keeps each item's bytes as they came)."""
        return self.request("GET", f"pull?after={int(after)}&limit={int(limit)}&ext=1")


def _read_bounded(resp: http.client.HTTPResponse) -> bytes | None:
    """The reply's body; None when it is larger than MAX_REPLY_BYTES (read no further, and
    not at all when its Content-Length says so)."""
    declared = resp.getheader("Content-Length") or ""
    if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
        return None
    data = resp.read(MAX_REPLY_BYTES + 1)
    return data if len(data) <= MAX_REPLY_BYTES else None


def _decode(data: bytes, t):
    try:
        return msgspec.json.decode(data, type=t)
    except wire.MALFORMED as e:
        raise HubFailed(f"the hub's reply is not brain-sync/v1 ({e})") from None


def _error(status: int, data: bytes, retry_after: str | None, url: str) -> SyncError:
    try:
        err = msgspec.json.decode(data, type=wire.ErrorReply).error
    except wire.MALFORMED:
        err = data[:200].decode("utf-8", "replace") or f"HTTP {status}"
    if status == 401:
        return Unauthenticated(
            f"the hub at {url} refused the token: {err}. Ask the hub operator for a new token"
            " and run `brain sync join URL --token-file F` again"
        )
    if status == 403:
        return Forbidden(
            f"the hub at {url} forbids this: {err}. If this device was revoked, ask the hub"
            " operator for a new token"
        )
    if status == 413:
        return TooLarge(f"the hub at {url} says the request is too large: {err}")
    if status == 429:
        try:
            wait = max(0.0, float(retry_after or 1))
        except ValueError:
            wait = 1.0
        return RateLimited(
            f"the hub at {url} is rate limiting this user: {err}; wait {wait:g} s", wait
        )
    if status >= 500:
        return HubFailed(f"the hub at {url} failed (HTTP {status}): {err}")
    return SyncError(f"the hub at {url} refused the request (HTTP {status}): {err}")


__all__ = [
    "Forbidden",
    "HubClient",
    "HubFailed",
    "HubUnreachable",
    "RateLimited",
    "ReplyTooLarge",
    "SyncError",
    "TlsFailed",
    "TooLarge",
    "Unauthenticated",
    "org_of_token",
]
