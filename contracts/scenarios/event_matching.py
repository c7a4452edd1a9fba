"""Which of the messages a listener received are the events a scenario expects: each expected event paired with one
received at its path that fits its expectations (in order, or in any order), and what is missing or did not fit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pruefstand.contracts.listener import Received
from pruefstand.contracts.scenarios.expectations import mismatches


def match_events(
    wanted: list[dict[str, Any]], received: list[Received], in_order: bool
) -> tuple[list[tuple[int, int]], list[str]]:
    """Pair each expected event with a received one (in order: later than the previous match); the problems say
    what is missing and, where a message at that path came but did not fit, what did not fit."""
    matched: list[tuple[int, int]] = []
    used: set[int] = set()
    start = 0
    problems: list[str] = []
    for i, event in enumerate(wanted):
        candidates = [j for j in range(start if in_order else 0, len(received)) if j not in used]
        at_path = [j for j in candidates if received[j].path.endswith(event["path"])]
        fits = [j for j in at_path if not event_mismatches(event, received[j])]
        if fits:
            matched.append((i, fits[0]))
            used.add(fits[0])
            start = fits[0] + 1
            continue
        if at_path:
            detail = "; ".join(event_mismatches(event, received[at_path[-1]]))
            problems.append(f"event {i + 1} at {event['path']}: received one, but {detail}")
        else:
            problems.append(f"event {i + 1} at {event['path']}: not received")
    return matched, problems


def event_mismatches(event: Mapping[str, Any], received: Received) -> list[str]:
    return mismatches(event.get("expect", {}), 200, received.body, received.headers)
