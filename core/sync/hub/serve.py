"""`brain hub serve`: the app under uvicorn, on loopback unless told otherwise.

Settings reach worker processes through one environment variable (`BRAIN_HUB_SERVE`, JSON),
because uvicorn starts each worker by importing `app_from_env` by name: the same path for one
worker or many, so what is tested is what runs.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import BrainError
from core.sync.hub import admin
from core.sync.hub.ratelimit import DEFAULT_RATE

ENV = "BRAIN_HUB_SERVE"
DEFAULT_BIND = "127.0.0.1:8765"


class ServeError(BrainError):
    pass


@dataclass(frozen=True)
class Settings:
    hub: str
    db: str | None = None
    rate: int = DEFAULT_RATE
    max_request_bytes: int = 32 << 20


def parse_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ServeError(f"--bind takes HOST:PORT (e.g. {DEFAULT_BIND}), not {bind!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def check_bind(host: str, port: int) -> None:
    """Bind and release HOST:PORT as uvicorn will (SO_REUSEADDR), so a busy port or a host
    this machine does not have is one message before anything says "serving"."""
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        why = getattr(e, "strerror", None) or str(e)
        raise ServeError(f"--bind {where}: no such host here ({why})") from None
    family, kind, proto, _, addr = infos[0]
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(addr)
            sock.listen(1)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            why = "the port is in use (another hub or program listens there)"
        else:
            why = (e.strerror or str(e)).lower()
        raise ServeError(f"cannot listen on {where}: {why}") from None


def _logging(folder: Path) -> None:
    """Refusals go to hub.log in the hub folder as well as stderr."""
    logger = logging.getLogger("brain.hub")
    if any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        return
    handler = logging.FileHandler(folder / admin.LOG_FILE)
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def build(settings: Settings):
    """The ASGI app for these settings (imports Starlette: only the server pays for it)."""
    from core.sync.hub.app import Hub, create_app
    from core.sync.hub.auth import HubKey

    folder = Path(settings.hub)
    key = HubKey.load(folder)
    storage = admin.open_storage(folder, settings.db)
    _logging(folder)
    hub = Hub(storage, key, rate=settings.rate, max_request_bytes=settings.max_request_bytes)
    return create_app(hub)


def app_from_env():
    """uvicorn's factory: the settings `serve` put in the environment."""
    raw = os.environ.get(ENV)
    if not raw:
        raise ServeError(f"{ENV} is not set: start the hub with `brain hub serve`")
    return build(Settings(**json.loads(raw)))


def serve(
    settings: Settings,
    *,
    bind: str = DEFAULT_BIND,
    cert: str | None = None,
    key: str | None = None,
    workers: int = 1,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run until stopped. `on_ready` is called once the settings, the files and the address
    all checked out, just before the server starts; a failure before then is a ServeError."""
    import uvicorn

    host, port = parse_bind(bind)
    if (cert is None) != (key is None):
        raise ServeError("TLS needs both --cert and --key")
    for f in (cert, key):
        if f is not None and not Path(f).is_file():
            raise ServeError(f"no such file: {f}")
    if cert is not None and key is not None:
        import ssl

        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        except ssl.SSLError:
            raise ServeError(
                f"--cert {cert} and --key {key}: not a PEM certificate and its matching key"
            ) from None
        except OSError as e:
            raise ServeError(f"--cert {cert} / --key {key}: cannot read ({e.strerror})") from None
    from core.sync.hub.auth import HubKey

    # Fail here, with the message, rather than inside a worker.
    HubKey.load(Path(settings.hub))
    admin.open_storage(Path(settings.hub), settings.db).close()
    check_bind(host, port)
    os.environ[ENV] = json.dumps(asdict(settings))
    if on_ready is not None:
        on_ready()
    try:
        uvicorn.run(
            "core.sync.hub.serve:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ssl_certfile=cert,
            ssl_keyfile=key,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    except SystemExit as e:  # uvicorn exits when it cannot start (it said why above)
        if e.code:
            raise ServeError(f"the hub server on {bind} could not start (exit {e.code})") from None


__all__ = [
    "DEFAULT_BIND",
    "ENV",
    "ServeError",
    "Settings",
    "app_from_env",
    "build",
    "parse_bind",
    "serve",
]
