"""The hub's HTTP API (docs/sync.md, "Wire"): a Starlette app over a `Storage`.

Every request is authenticated (auth.authenticate) and scoped to the org in its path, then
rate limited per user; a push verifies every envelope and purge notice (core.sync.envelope)
before storage sees it, so the hub never relays what it could not prove. Storage and
verification block (SQLite, psycopg, Ed25519), so they run in the threadpool and the event
loop stays free to accept and refuse other requests.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import BrainError
from core.sync.hub import push
from core.sync.hub.auth import Claims, HubKey, Revoked, Unauthenticated, authenticate
from core.sync.hub.errors import HubError
from core.sync.hub.ratelimit import DEFAULT_RATE, RateLimiter
from core.sync.hub.storage import (
    HubStorageError,
    Scope,
    Storage,
    StorageUnavailable,
    check_name,
    page_end,
)
from core.sync.wire import (
    MALFORMED,
    MAX_BATCH,
    Envelope,
    ErrorReply,
    PullItem,
    PullReply,
    PurgeNotice,
    RotationProof,
    Whoami,
)

log = logging.getLogger("brain.hub")

DEFAULT_MAX_REQUEST_BYTES = 32 << 20  # a push batch; a client splits bigger pushes
_INT = re.compile(r"\d{1,18}")
_envelope = msgspec.json.Decoder(Envelope)
_purge = msgspec.json.Decoder(PurgeNotice)
_rotation = msgspec.json.Decoder(RotationProof)


def _reply(status: int, body: msgspec.Struct, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(body), status, headers=headers, media_type="application/json"
    )


class Hub:
    """The app's state: the key, storage, the limiter and the request size cap."""

    def __init__(
        self,
        storage: Storage,
        key: HubKey,
        *,
        rate: int = DEFAULT_RATE,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.storage = storage
        self.key = key
        self.limiter = limiter or RateLimiter(rate)
        self.strangers = RateLimiter(rate)  # refused tokens, per client address
        self.max_request_bytes = max_request_bytes
        # A pull page stops at the item that brings it to half the request cap: a reply is
        # then under the cap plus one item (each came in a request under the cap), far below
        # what a client reads (core.sync.client.MAX_REPLY_BYTES), whatever the item count.
        self.max_page_bytes = max(1, max_request_bytes // 2)

    # -- the guard every route passes -----------------------------------------------------------

    def refuse(self, org: str, user: str, device: str, event: str, detail: str) -> None:
        """Log a refusal twice: the Python log (hub.log) and the hub_events table."""
        log.warning("refused %s org=%s user=%s device=%s: %s", event, org, user, device, detail)
        try:
            self.storage.log_event(org, user, device, event, detail)
        except BrainError as e:  # the refusal itself must still reach the client
            log.error("could not record the refusal in hub_events: %s", e)

    def _check(self, org: str, header: str | None, client: str) -> Claims:
        """Blocking half of the guard: token, storage lookups, org."""
        safe_org = org if _valid_name(org) else "?"
        try:
            claims = authenticate(self.key, self.storage, header)
        except Unauthenticated as e:
            # Failures are limited per address too, so bad tokens cannot flood hub_events.
            wait = self.strangers.take("", client)
            if wait:
                log.warning(
                    "refused unauthenticated from %s (over the limit, not recorded)", client
                )
                msg = f"too many refused requests from {client}: retry in {wait} s"
                raise HubError(429, "rate-limited", msg, retry_after=wait) from None
            self.refuse(safe_org, "", "", "unauthenticated", f"{e} (from {client})")
            raise HubError(401, "unauthenticated", str(e)) from None
        except Revoked as e:
            self.refuse(e.org or safe_org, e.user, e.device, "revoked", str(e))
            raise HubError(403, "revoked", str(e)) from None
        if claims.org != org:
            msg = f"this token is for org {claims.org}, not {org}"
            self.refuse(claims.org, claims.user, claims.device, "forbidden", msg)
            raise HubError(403, "forbidden", msg)
        return claims

    async def guard(self, request: Request) -> Claims:
        org = request.path_params["org"]
        client = request.client.host if request.client else "?"
        header = request.headers.get("authorization")
        claims = await run_in_threadpool(self._check, org, header, client)
        wait = self.limiter.take(claims.org, claims.user)
        if wait:
            msg = f"more than {self.limiter.rate} requests a minute from {claims.user}"
            await run_in_threadpool(
                self.refuse, claims.org, claims.user, claims.device, "rate-limited", msg
            )
            raise HubError(429, "rate-limited", f"{msg}: retry in {wait} s", retry_after=wait)
        return claims

    async def body(self, request: Request) -> bytes:
        """The request body, read no further than the cap (bounded foreign data)."""
        cap = self.max_request_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise HubError(413, "too-large", f"the request is larger than {cap} bytes; split it")
        buf = bytearray()
        async for chunk in request.stream():
            buf += chunk
            if len(buf) > cap:
                raise HubError(
                    413, "too-large", f"the request is larger than {cap} bytes; split it"
                )
        return bytes(buf)

    # -- routes -------------------------------------------------------------------------------

    def _whoami(self, claims: Claims) -> Whoami:
        org = self.storage.get_org(claims.org)
        bound = self.storage.binding_for_device(claims.org, claims.device)
        return Whoami(
            hub=self.key.id,
            org=claims.org,
            user=claims.user,
            role=claims.role,
            device=claims.device,
            store=bound.origin if bound else "",
            org_only_roles=list(org.org_only_roles) if org else [],
            max_request_bytes=self.max_request_bytes,
        )

    async def whoami(self, request: Request) -> Response:
        claims = await self.guard(request)
        return _reply(200, await run_in_threadpool(self._whoami, claims))

    async def push(self, request: Request) -> Response:
        claims = await self.guard(request)
        try:
            body = await self.body(request)
            reply = await run_in_threadpool(push.push, self, claims, body)
        except HubError as e:
            if e.status in (400, 413):  # 403s were logged where they were decided
                await run_in_threadpool(
                    self.refuse, claims.org, claims.user, claims.device, e.code, str(e)
                )
            raise
        return _reply(200, reply)

    def _pull(self, claims: Claims, after: int, limit: int, ext: bool = False) -> PullReply:
        """`ext`: the puller reads the brain-sync/v1 extensions (rotations, purge moves)."""
        org = self.storage.get_org(claims.org)
        bound = self.storage.binding_for_device(claims.org, claims.device)
        scope = Scope(
            user=claims.user,
            store=bound.origin if bound else "",
            org_only=org is not None and claims.role in org.org_only_roles,
        )
        budget = self.max_page_bytes
        items, cursor = self.storage.read(claims.org, scope, after, limit, budget)
        out = []
        rots: list[RotationProof] = []
        for it in items:
            try:
                if it.kind == "envelope":
                    out.append(
                        PullItem(it.cursor, "envelope", envelope=_envelope.decode(it.payload))
                    )
                elif it.kind == "purge":
                    notice = _purge.decode(it.payload)
                    if not ext and notice.moves:  # an older client would refuse the field
                        notice = msgspec.structs.replace(notice, moves=[])
                    out.append(PullItem(it.cursor, "purge", purge=notice))
                elif it.kind == "rotation" and ext:  # only to a client that asks for them
                    rots.append(_rotation.decode(it.payload))
            except MALFORMED as e:
                # Stored before the wire types were as strict (a padded proof): never relayed,
                # and one such item must not fail every pull of the org.
                log.error("not relaying item %s of org %s: %s", it.cursor, claims.org, e)
        _, more = page_end([(it.cursor, len(it.payload)) for it in items], limit, budget)
        return PullReply(items=out, cursor=cursor, more=more, rotations=rots)

    async def pull(self, request: Request) -> Response:
        claims = await self.guard(request)
        after = _query_int(request, "after", 0, 0)
        limit = min(_query_int(request, "limit", MAX_BATCH, 1), MAX_BATCH)
        ext = _query_int(request, "ext", 0, 0) > 0
        return _reply(200, await run_in_threadpool(self._pull, claims, after, limit, ext))


def _valid_name(name: str) -> bool:
    try:
        check_name("org", name)
    except HubStorageError:
        return False
    return True


def _query_int(request: Request, name: str, default: int, least: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not _INT.fullmatch(raw) or int(raw) < least:
        raise HubError(400, "bad-request", f"`{name}` must be an integer ≥ {least}, not {raw!r}")
    return int(raw)


UNAVAILABLE_RETRY_S = 5
Endpoint = Callable[[Request], Awaitable[Response]]


def _handled(hub: Hub, endpoint: Endpoint) -> Endpoint:
    """Turn refusals into ErrorReply; an unreachable backend is a 503 the client retries;
    anything else is logged and a plain 500."""

    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except HubError as e:
            headers = {"Retry-After": str(e.retry_after)} if e.retry_after else None
            return _reply(e.status, ErrorReply(error=str(e), code=e.code), headers)
        except StorageUnavailable as e:
            # The details (host, role) go to the operator's log, not to every client.
            log.error("storage unavailable on %s %s: %s", request.method, request.url.path, e)
            busy = "the hub's database is unavailable; the hub's operator has the details"
            headers = {"Retry-After": str(UNAVAILABLE_RETRY_S)}
            return _reply(503, ErrorReply(error=busy, code="unavailable"), headers)
        except Exception:
            log.exception("the hub failed on %s %s", request.method, request.url.path)
            return _reply(500, ErrorReply(error="the hub failed; see hub.log", code="internal"))

    return run


def create_app(hub: Hub) -> Starlette:
    base = "/v1/orgs/{org}"
    routes = [
        Route(f"{base}/whoami", _handled(hub, hub.whoami), methods=["GET"]),
        Route(f"{base}/push", _handled(hub, hub.push), methods=["POST"]),
        Route(f"{base}/pull", _handled(hub, hub.pull), methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        hub.storage.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.hub = hub
    return app


__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "Hub", "HubError", "create_app"]
