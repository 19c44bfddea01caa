"""The poller's back-off arithmetic: waits grow with how long a payout stays unchanged, double per failure,
stay within their bounds with ±20 % jitter, and a 429's Retry-After is honoured."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treasury_app.services.poll_schedule import Backoff, PollerSettings, rate_limit_pause

BACKOFF = Backoff()  # 5 s to 10 min, ±20 %
S = timedelta(seconds=1)
ages = st.integers(min_value=0, max_value=30 * 24 * 3600).map(lambda s: timedelta(seconds=s))


@given(unchanged_for=ages, seed=st.integers())
def test_the_wait_after_an_answer_is_the_unchanged_time_within_bounds_and_jitter(unchanged_for, seed):
    wait = BACKOFF.after_answer(unchanged_for, random.Random(seed))
    nominal = min(max(unchanged_for, 5 * S), 600 * S)
    assert nominal * 0.8 <= wait <= nominal * 1.2


@given(failures=st.integers(min_value=1, max_value=10_000), unchanged_for=ages, seed=st.integers())
def test_the_wait_after_failures_doubles_per_failure_up_to_the_slowest(failures, unchanged_for, seed):
    wait = BACKOFF.after_failure(failures, unchanged_for, random.Random(seed))
    nominal = min(max(5 * S * 2 ** min(failures, 30), unchanged_for), 600 * S)
    assert nominal * 0.8 <= wait <= nominal * 1.2


def test_a_payout_left_unchanged_is_asked_at_doubling_gaps():
    steady = Backoff(jitter=0)
    rng = random.Random(1)
    asked, changed, gaps = timedelta(0), timedelta(0), []
    for _ in range(10):
        gap = steady.after_answer(asked - changed, rng)
        gaps.append(gap.total_seconds())
        asked += gap
    assert gaps == [5, 5, 10, 20, 40, 80, 160, 320, 600, 600]


def test_jitter_differs_between_payouts_but_is_repeatable_from_the_seed():
    waits = [BACKOFF.after_answer(60 * S, random.Random(7)) for _ in range(2)]
    assert waits[0] == waits[1]
    rng = random.Random(7)
    assert len({BACKOFF.after_answer(60 * S, rng) for _ in range(20)}) == 20


def test_the_first_wait_and_the_spread_stay_small():
    rng = random.Random(3)
    for _ in range(100):
        assert 4 * S <= BACKOFF.first_wait(rng) <= 6 * S
        assert timedelta(0) <= BACKOFF.spread(rng) <= 1 * S


@pytest.mark.parametrize(("retry_after", "expected"), [(120, 120), (0.5, 0.5), (None, 30), (-1, 30),
                                                       (float("nan"), 30), (86_400, 3600), (float("inf"), 3600)])
def test_a_rate_limit_pauses_as_long_as_the_provider_asks_or_the_default(retry_after, expected):
    assert rate_limit_pause(retry_after, 30 * S) == timedelta(seconds=expected)


@pytest.mark.parametrize("bad", [{"fastest": timedelta(0)}, {"fastest": 20 * S, "slowest": 10 * S},
                                 {"jitter": 1.0}, {"jitter": -0.1}])
def test_a_back_off_that_makes_no_sense_is_refused(bad):
    with pytest.raises(ValueError):
        Backoff(**bad)


def test_poller_settings_batch_cryptomus_reads_and_ask_others_one_key_per_call():
    settings = PollerSettings()
    assert settings.max_in_flight == 4
    assert settings.fetch_size("cryptomus") > 1 and settings.fetch_size("pay3") == 1
    with pytest.raises(ValueError):
        PollerSettings(max_in_flight=0)
    with pytest.raises(ValueError):
        PollerSettings(keys_per_fetch={"cryptomus": 0})
