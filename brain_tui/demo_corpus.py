"""Demo text: memories and their edits, generated from templates and word lists in assets/demo/.

Everything here is a pure function of the `random.Random` it is handed, so a seeded build writes
the same words every time (the snapshots depend on it).
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.paths import slugify

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "demo"
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(slots=True)
class Draft:
    """A memory about to be written: its folder and slug are not yet made unique."""

    kind: str
    folder: str
    slug: str
    title: str
    base: str
    category: str
    tags: list[str]
    sync_class: str
    classification: str
    updates: list[str] = field(default_factory=list)

    def body(self) -> str:
        """The base text plus the newest updates (old ones roll off, like a real log)."""
        text = f"# {self.title}\n\n{self.base}\n"
        if self.updates:
            text += "\n## Updates\n\n" + "".join(f"- {u}\n" for u in self.updates)
        return text


class Corpus:
    def __init__(self, assets: Path = ASSETS) -> None:
        self.words: dict[str, list[str]] = json.loads((assets / "words.json").read_text("utf-8"))
        self.kinds: dict[str, Any] = json.loads((assets / "templates.json").read_text("utf-8"))
        self.updates: list[str] = self.kinds.pop("updates")
        self.status_flow: dict[str, list[str]] = self.kinds.pop("status_flow")
        self.purge_target: dict[str, Any] = self.kinds.pop("purge_target")

    # -- slots --------------------------------------------------------------------------

    def slots(self, rng: random.Random, when_ns: int) -> dict[str, str]:
        w = self.words
        pick = rng.choice
        two = rng.sample
        service, service2 = two(w["service"], 2)
        tech, tech2 = two(w["tech"], 2)
        option, option2 = two(w["option"], 2)
        i = rng.randrange(len(w["drift_claim"]))
        ms = pick([40, 80, 120, 180, 250, 400, 650, 900, 1500, 2400])
        day = _dt.datetime.fromtimestamp(when_ns / 1e9, tz=_dt.UTC)
        s = {name: pick(values) for name, values in w.items()}
        s.update(
            service=service,
            service2=service2,
            service_env=service.upper().replace("-", "_"),
            tech=tech,
            tech2=tech2,
            option=option,
            option2=option2,
            drift_claim=w["drift_claim"][i],
            drift_reality=w["drift_reality"][i],
            n=str(rng.randint(2, 9)),
            n2=str(rng.randint(2, 9)),
            ms=str(ms),
            ms2=str(max(5, ms * rng.randint(20, 70) // 100)),
            pct=str(rng.choice([95, 97, 98, 99])),
            ver=f"{rng.randint(1, 16)}.{rng.randint(0, 12)}",
            pr=str(rng.randint(1200, 4800)),
            tz=rng.choice(["+0", "+1", "+2", "-5", "-8", "+5:30"]),
            date=day.strftime("%Y-%m-%d"),
            weekday=day.strftime("%A"),
        )
        s["slug_hint"] = slugify(s["error"], max_len=24).replace("-", "_")
        return s

    @staticmethod
    def fill(template: str, slots: dict[str, str]) -> str:
        """Replace {slot}; {Slot} gives the value with its first letter capitalised."""

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in slots:
                return slots[name]
            low = name[0].lower() + name[1:]
            if low in slots:
                value = slots[low]
                return value[:1].upper() + value[1:]
            return m.group(0)

        return _SLOT.sub(one, template)

    # -- new memories -------------------------------------------------------------------

    def draft(self, kind: str, rng: random.Random, when_ns: int) -> Draft:
        spec = self.kinds[kind]
        tpl = rng.choice(spec["templates"])
        s = self.slots(rng, when_ns)
        title = self.fill(tpl["title"], s)
        title = title[0].upper() + title[1:]
        where = tpl.get("folder") or rng.choice(spec["folders"])
        folder = "/".join(slugify(p) for p in self.fill(where, s).split("/"))
        tags = [_tag(self.fill(t, s)) for t in tpl["tags"]]
        return Draft(
            kind=kind,
            folder=folder,
            slug=_slug(title),
            title=title,
            base="\n".join(_sentence_case([self.fill(line, s) for line in tpl["body"]])),
            category=tpl["category"],
            tags=list(dict.fromkeys(tags)),
            sync_class=_weighted(rng, spec["sync"]),
            classification=_weighted(rng, spec["classification"]),
        )

    def purge_draft(self) -> Draft:
        p = self.purge_target
        return Draft(
            kind="people",
            folder=p["folder"],
            # Paths are permanent chain data: a role and a fixed id, never the person's name.
            slug="contractor-contact-7f3a",
            title=p["title"],
            base="\n".join(p["body"]),
            category=p["category"],
            tags=list(p["tags"]),
            sync_class="private",
            classification="restricted",
        )

    def move_folder(self, kind: str, rng: random.Random) -> str:
        return rng.choice(self.kinds[kind]["moves"])

    # -- edits --------------------------------------------------------------------------

    def update_line(self, rng: random.Random, when_ns: int) -> str:
        s = self.slots(rng, when_ns)
        return f"{s['date']}: {self.fill(rng.choice(self.updates), s)}"

    def next_status(self, tags: list[str], rng: random.Random) -> list[str] | None:
        """Tags with the status moved one step along its flow, or None if it can't move."""
        for i, t in enumerate(tags):
            if t in self.status_flow:
                out = list(tags)
                out[i] = rng.choice(self.status_flow[t])
                return out
        return None


_LEAD = re.compile(r"^((?:[-*] |\d+\. |\*\*[^*]+:\*\* )?)([a-z])")


def _sentence_case(lines: list[str]) -> list[str]:
    """Capitalise a line or list item that starts with a filled-in word; code stays as is."""
    out, code = [], False
    for line in lines:
        if line.startswith("```"):
            code = not code
        elif not code:
            line = _LEAD.sub(lambda m: m.group(1) + m.group(2).upper(), line, count=1)
        out.append(line)
    return out


def _slug(title: str, max_len: int = 64) -> str:
    """A slug cut at a word boundary, so long titles don't end mid-word."""
    full = slugify(title, max_len=200)
    if len(full) <= max_len:
        return full
    return full[: max_len + 1].rsplit("-", 1)[0]


def _tag(text: str) -> str:
    prefix, colon, value = text.partition(":")
    if colon:
        return f"{prefix}:{slugify(value, max_len=40)}"
    return slugify(text, max_len=40)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]
