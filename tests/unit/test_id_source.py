"""Where identifiers come from: record keys sort by creation (UUID version 7) unless seeded (repeatable)."""

import time
import uuid

from pruefstand.mock_server.kernel.id_source import IdSource


def test_given_no_seed_when_record_keys_are_made_then_they_are_version_7_with_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    text = IdSource().record_key()
    after = time.time_ns() // 1_000_000
    key = uuid.UUID(text)

    assert str(key) == text  # the canonical form: lower-case hex in groups of 8-4-4-4-12
    assert key.version == 7
    assert key.variant == uuid.RFC_4122
    assert before <= int.from_bytes(key.bytes[:6], "big") <= after


def test_given_no_seed_when_record_keys_are_made_in_turn_then_they_sort_by_time_and_never_repeat() -> None:
    ids = IdSource()
    keys = []
    for _ in range(5):
        keys.append(ids.record_key())
        time.sleep(0.002)
    burst = [ids.record_key() for _ in range(10_000)]  # many within one millisecond

    assert keys == sorted(keys)
    assert burst == sorted(burst)  # each greater than the one before, also within a millisecond
    assert len(set(burst)) == 10_000


def test_given_a_seed_when_record_keys_are_made_then_they_repeat_run_for_run_whatever_the_time() -> None:
    source = IdSource("replay")
    run_a = [source.record_key() for _ in range(3)]
    time.sleep(0.002)
    source = IdSource("replay")
    run_b = [source.record_key() for _ in range(3)]

    assert run_a == run_b
    assert len(set(run_a)) == 3
    assert uuid.UUID(run_a[0]).version == 4
