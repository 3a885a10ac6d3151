from datetime import UTC, datetime, timedelta

from grants.domain import throttle

NOW = datetime(2026, 12, 9, 13, 55, tzinfo=UTC)


def test_free_attempts_then_a_pause_that_doubles_up_to_fifteen_minutes():
    c = lambda n, ago=0: throttle.Count(n, NOW - timedelta(seconds=ago))  # noqa: E731
    assert throttle.wait(c(4), 5, NOW) == timedelta(0)
    assert throttle.wait(c(5), 5, NOW) == timedelta(seconds=1)
    assert throttle.wait(c(8), 5, NOW) == timedelta(seconds=8)
    assert throttle.wait(c(8, ago=8), 5, NOW) == timedelta(0)        # waited long enough
    assert throttle.wait(c(400), 5, NOW) == timedelta(minutes=15)     # never more


def test_the_longest_of_the_three_counts_decides():
    none = throttle.Count(0, None)
    busy_office = throttle.Count(31, NOW)
    assert throttle.longest_wait(none, busy_office, none, NOW) == timedelta(seconds=2)
    assert throttle.longest_wait(none, none, throttle.Count(49, NOW), NOW) == timedelta(0)
