"""What waits for a person when the demo opens: proposals the agents filed in its last minutes
(pane 5) and shareable notes the PII gate held back (pane 4). Filed through the engine's own
doors (`store.proposals.propose`, `store.put`), so the gate's checks and rows are the real
ones. Fixed text: the shipped vectors (brain_tui.demo_vectors) cover it too."""

from __future__ import annotations

from core.errors import BrainError
from core.store import Store

# (actor, title, sections, answers, scope, category): each passes seed 004's gate.
PROPOSALS: list[tuple[str, str, dict[str, str], dict[str, str], list[str], str]] = [
    (
        "agent:claude-code@laptop",
        "Retry flaky payment-worker tests once before failing CI",
        {
            "PROPOSAL": "retry the payment-worker integration tests once before failing CI",
            "PROBLEM": "three of the last ten CI runs failed on a timeout that passed on rerun",
            "SOLUTION": "mark the two timeout-prone tests flaky and let CI retry them one time",
            "BENEFIT": "fewer red builds that a person has to rerun by hand",
            "CONTEXT": "seen in the payment-worker pipeline during the last two weeks",
        },
        {
            "observed": "CI runs 412, 418 and 431 failed on the ledger timeout, then passed",
            "evidence": "the CI history and the fact memory about the ledger timeout",
            "scope": "only the payment-worker CI config; the tests themselves stay as they are",
            "reversible": "drop the retry line from the CI config",
            "safety": "no: a retry only reruns a test, it never skips one",
        },
        ["ci/payment-worker.yml"],
        "code-solution",
    ),
    (
        "agent:cursor@desktop",
        "Pin the admin-console Node version in the repo",
        {
            "PROPOSAL": "pin the admin-console Node version with an .nvmrc file",
            "PROBLEM": "two laptops built with Node 20 and 22 and produced different lockfiles",
            "SOLUTION": "add .nvmrc with the version CI uses and mention it in the README",
            "BENEFIT": "one lockfile, the same on every machine",
            "CONTEXT": "came up while reviewing the admin-console dependency bump",
        },
        {
            "observed": "the lockfile changed twice in one day with no dependency change",
            "evidence": "the two commits and the decision memory about the toolchain",
            "scope": "adds one file to admin-console; nothing else changes",
            "reversible": "delete the .nvmrc file",
            "safety": "no: it only names a Node version",
        },
        ["admin-console/.nvmrc"],
        "architecture",
    ),
    (
        "agent:assistant@phone",
        "Summarise stand-up notes into one weekly memory",
        {
            "PROPOSAL": "fold each week's stand-up notes into one summary memory",
            "PROBLEM": "five short notes a week crowd the search results for a project",
            "SOLUTION": "on Fridays write one summary and tombstone the daily notes it covers",
            "BENEFIT": "searches find one summary instead of five fragments",
            "CONTEXT": "the daily notes of the beacon project since April",
        },
        {
            "observed": "a search for beacon returned nine stand-up notes before the decision",
            "evidence": "the beacon project folder and its search results",
            "scope": "only the daily stand-up notes; decisions and facts are left alone",
            "reversible": "the tombstoned notes keep their history and can be restored",
            "safety": "no: tombstones keep every version, nothing is purged",
        },
        ["memories/projects/beacon/"],
        "project-context",
    ),
]

# (actor, path, body): shareable notes with contact details, a key or a card number in them.
HELD: list[tuple[str, str, str]] = [
    (
        "agent:assistant@phone",
        "memories/people/stakeholders/vendor-billing-contact.md",
        "---\ntitle: Vendor billing contact\ncategory: project-context\n---\nInvoices for the beacon vendor go to"
        " billing@vendor.example.org; their account manager is on +1 415 555 0147.\n",
    ),
    (
        "agent:claude-code@laptop",
        "memories/facts/tooling/staging-deploy-credentials.md",
        "---\ntitle: Staging deploy credentials\ncategory: debugging\n---\nThe staging deploy job used the key"
        " AKIAIOSFODNN7EXAMPLE until it was rotated; ask raj for the new one.\n",
    ),
    (
        "agent:cursor@desktop",
        "memories/projects/atlas/conference-booking.md",
        "---\ntitle: Conference booking for atlas\ncategory: project-context\n---\nBooked the venue with the team card"
        " 4111 1111 1111 1111; the receipt went to ana.reyes@example.com.\n",
    ),
]


def add_review_queue(store: Store) -> None:
    """File the proposals and put the held notes, right after the demo's last session (the
    build's simulated clock ticks on with every row)."""
    for n, (actor, title, sections, answers, scope, category) in enumerate(PROPOSALS):
        filed = store.proposals.propose(
            title,
            sections,
            answers,
            actor=actor,
            scope=scope,
            category=category,
            session=f"demo-review-{n + 1}",
            semantic=False,  # the model is not loaded while the demo is built
        )
        if not filed.filed:
            raise BrainError(f"the demo's proposal {title!r} failed the gate: {filed.gate}")
    for actor, path, body in HELD:
        store.put(path, body, actor=actor, sync_class="shareable")
