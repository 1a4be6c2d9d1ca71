"""A hostile hub on loopback (stdlib http.server): it answers whoami, push and pull with
whatever a test gives it. What a member's client must survive; a real hub never sends it.

`forge` re-signs an origin's proof for another origin id, as a hub (or anyone) that makes
up an origin can: the bundle verifies, against a key nobody pinned yet (trust on first use).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec

from core.log import canonical
from core.sync import wire
from core.verify import proofbundle, proofs, signed_note

ORG = "acme"
# A JWT's shape with an org claim: the client reads the org from it, the hostile hub reads
# nothing.
_CLAIMS = base64.urlsafe_b64encode(json.dumps({"org": ORG}).encode()).decode().rstrip("=")
TOKEN = f"x.{_CLAIMS}.y"


def page(items: list[wire.PullItem], cursor: int, more: bool = False) -> bytes:
    return msgspec.json.encode(wire.PullReply(items=items, cursor=cursor, more=more))


class HostileHub:
    """`pull(after) -> bytes`: the raw reply to each pull; `role`: what whoami says."""

    def __init__(self, pull: Callable[[int], bytes], role: str = "member") -> None:
        self.pull = pull
        self.role = role
        self.pulls = 0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.endswith("/whoami"):
                    me = wire.Whoami("hostile", ORG, "u", hub.role, "d", "", [])
                    self._send(msgspec.json.encode(me))
                else:
                    hub.pulls += 1
                    after = int(self.path.split("after=")[1].split("&")[0])
                    self._send(hub.pull(after))

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._send(msgspec.json.encode(wire.PushReply(results=[], cursor=0)))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def forge(proof: wire.ProofBundle, origin: str, seed: bytes = b"\x07" * 32) -> wire.ProofBundle:
    """The same row, tree size and root, under a checkpoint signed for `brain/<origin>` by a
    fresh key."""
    cp, _ = signed_note.parse_note(proof.checkpoint)
    signer = signed_note.Signer.from_seed("forger", seed)
    note = signed_note.sign_note(
        signed_note.Checkpoint(f"brain/{origin}", cp.size, cp.root), [signer]
    )
    return msgspec.structs.replace(proof, checkpoint=note, public_key=signer.verifier.vkey())


def one_row_log(row: dict, origin: str, seed: bytes = b"\x09" * 32) -> wire.ProofBundle:
    """The proof of `row` (nine fields, seq 1) in a log of that one row, signed for
    `brain/<origin>` by a fresh key: what a member's modified software can sign."""
    leaf = canonical.encode(row)
    root = proofs.leaf_hash(leaf)  # the tree of one leaf
    signer = signed_note.Signer.from_seed("forger", seed)
    note = signed_note.sign_note(signed_note.Checkpoint(f"brain/{origin}", 1, root), [signer])
    bundle = proofbundle.inclusion_bundle(1, leaf, [], root, note, signer.verifier.vkey(), 1)
    return msgspec.convert(bundle, wire.ProofBundle)
