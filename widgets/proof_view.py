"""An inclusion proof, shown the way a reader checks it: leaf, audit path, root, signer."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from textual.content import Content
from textual.widgets import Static


def b64_hex(value: object) -> str:
    if not isinstance(value, str):
        return str(value)
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return value


def proof_content(bundle: dict[str, Any], valid: bool, reason: str, signer: str) -> Content:
    verdict = ("✓ valid", "bold $success") if valid else ("✗ INVALID", "bold $error")
    siblings = bundle.get("proof") or []
    note = str(bundle.get("checkpoint", ""))
    origin = note.splitlines()[0] if note else "—"
    lines: list[Content] = [
        Content.assemble(verdict, "  ", reason),
        Content.assemble(("signer     ", "dim"), signer or "—"),
        Content.assemble(("checkpoint ", "dim"), f"{origin} · tree size {bundle.get('tree_size')}"),
        Content.assemble(
            ("leaf       ", "dim"), f"#{bundle.get('leaf_index')} (seq {bundle.get('seq')})"
        ),
        Content.assemble(("leaf hash  ", "dim"), b64_hex(bundle.get("leaf_hash"))),
        Content.assemble(("audit path ", "dim"), f"{len(siblings)} sibling hashes, leaf to root"),
    ]
    for i, h in enumerate(siblings, 1):
        lines.append(Content.assemble((f"  {i:>2}  ", "dim"), b64_hex(h)))
    lines.append(Content.assemble(("root       ", "dim"), b64_hex(bundle.get("root"))))
    return Content("\n").join(lines)


class ProofView(Static):
    DEFAULT_CLASSES = "proof-view"

    def show_message(self, text: str) -> None:
        self.update(Content(text))

    def show_proof(self, bundle: dict[str, Any], valid: bool, reason: str, signer: str) -> None:
        self.update(proof_content(bundle, valid, reason, signer))
