"""Checksums and measures the detectors validate candidates with."""

from __future__ import annotations

import math
import re
from collections import Counter


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mod97_ok(iban: str) -> bool:
    """ISO 13616 mod-97 check of a compact, upper-case IBAN."""
    moved = iban[4:] + iban[:4]
    try:
        number = int("".join(str(int(c, 36)) for c in moved))
    except ValueError:
        return False
    return number % 97 == 1


def entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(s)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


_NON_DIGITS = re.compile(r"\D+", re.ASCII)


def digits_of(s: str) -> str:
    """The ASCII and other decimal digits of `s`, in order."""
    return _NON_DIGITS.sub("", s)


_CLASS_RUNS = re.compile(r"[a-z]+|[A-Z]+|[0-9]+|[^a-zA-Z0-9]+")


def class_switches(s: str) -> int:
    """How often adjacent characters change class (lower, upper, digit, other; ASCII).

    Random tokens switch at about two pairs in three; identifiers and words rarely do.
    """
    return max(0, len(_CLASS_RUNS.findall(s)) - 1)
