"""The Cryptomus client's batched state look-up against the sandbox over loopback: a walk of the payout list,
newest first, as far as it is worth it and no further back than the payouts were sent; the rest asked by `info`.
"""

import json
from datetime import UTC, datetime

from provider_fixtures import RecordingTransport, usdt_tron

from treasury_app.domain.payout_lifecycle import PayoutStatus

LIST, INFO = "/v1/payout/list", "/v1/payout/info"


async def sent(client, *keys: str) -> None:
    for key in keys:
        await client.submit(usdt_tron("1"), key, {})


def sandbox_now(box) -> datetime:
    return datetime.fromtimestamp(box.clock.now(), UTC)


async def test_a_walk_reads_the_pages_its_payouts_fill_and_a_spare_few_then_asks_the_rest_by_itself(
        start_sandbox, cryptomus_for):
    box = start_sandbox(cryptomus_page_size=3)
    recorder = RecordingTransport()
    client = cryptomus_for(box, transport=recorder)
    await sent(client, "deep")
    await sent(client, *(f"other-{n}" for n in range(20)))  # not asked about: another desk's, or final
    wanted = [f"new-{n}" for n in range(9)]
    await sent(client, *wanted)
    box.force_outcome("cryptomus", "deep", "paid")
    box.advance(3600)
    recorder.requests.clear()

    states = await client.fetch_states([*wanted, "deep"])

    # 10 payouts fill 4 pages of 3, and 2 spare: 6 pages, though "deep" is on the 10th.
    assert recorder.paths().count(LIST) == 6
    assert recorder.paths().count(INFO) == 1 and json.loads(recorder.requests[-1].content) == {"order_id": "deep"}
    assert states["deep"].status is PayoutStatus.COMPLETED and states["deep"].provider_status == "paid"
    assert all(states[key].idempotency_key == key for key in wanted)


async def test_a_walk_for_payouts_the_history_lacks_stops_once_asking_them_one_by_one_is_cheaper(
        start_sandbox, cryptomus_for):
    box = start_sandbox(cryptomus_page_size=3)
    recorder = RecordingTransport()
    client = cryptomus_for(box, transport=recorder)
    await sent(client, *(f"other-{n}" for n in range(30)))  # ten pages the look-up does not want
    recorder.requests.clear()
    never_sent = [f"never-{n}" for n in range(6)]

    states = await client.fetch_states(never_sent)

    assert states == dict.fromkeys(never_sent)
    # 6 missing: after 6 pages the six single asks cost no more than the pages still to read.
    assert recorder.paths() == [LIST] * 6 + [INFO] * 6


async def test_payouts_below_newer_ones_are_still_found_by_the_walk(start_sandbox, cryptomus_for):
    """A round of the oldest payouts (the most overdue come first): the walk goes on past the pages they would
    fill while asking them one by one would cost more."""
    box = start_sandbox(cryptomus_page_size=5)
    recorder = RecordingTransport()
    client = cryptomus_for(box, transport=recorder)
    oldest = [f"old-{n}" for n in range(20)]
    await sent(client, *oldest, *(f"newer-{n}" for n in range(60)))
    recorder.requests.clear()

    states = await client.fetch_states(oldest)

    assert all(states[key].idempotency_key == key for key in oldest)
    assert recorder.paths() == [LIST] * 16  # the 80 payouts' pages, not 20 single asks


async def test_the_walk_reads_no_further_back_than_the_payouts_were_sent_less_a_margin(
        start_sandbox, cryptomus_for):
    box = start_sandbox(cryptomus_page_size=3)
    recorder = RecordingTransport()
    client = cryptomus_for(box, transport=recorder)
    await sent(client, *(f"yesterday-{n}" for n in range(30)))
    box.advance(86_400)
    sent_since = sandbox_now(box)
    today = [f"today-{n}" for n in range(6)]
    await sent(client, *today)
    recorder.requests.clear()

    states = await client.fetch_states([*today, "never-1", "never-2", "never-3"], sent_since=sent_since)

    assert all(states[key].idempotency_key == key for key in today) and states["never-1"] is None
    # Today's 6 payouts are two pages; yesterday's ten are never read, though the 3 missing would allow more.
    assert recorder.paths() == [LIST] * 2 + [INFO] * 3
    # Sent since 2025-01-02 00:00 UTC: from six hours before, written in Moscow time as cryptomus.md says.
    assert sent_since == datetime(2025, 1, 2, tzinfo=UTC)
    assert [json.loads(r.content) for r in recorder.requests[:2]] == [{"date_from": "2025-01-01 21:00:00"}] * 2


async def test_without_a_sent_since_only_the_pages_the_walk_may_read_bound_it(start_sandbox, cryptomus_for):
    box = start_sandbox(cryptomus_page_size=3)
    recorder = RecordingTransport()
    client = cryptomus_for(box, transport=recorder)
    await sent(client, *(f"yesterday-{n}" for n in range(30)))
    box.advance(86_400)
    today = [f"today-{n}" for n in range(6)]
    await sent(client, *today)
    recorder.requests.clear()

    await client.fetch_states([*today, "never-1", "never-2", "never-3"])

    assert [r.content for r in recorder.requests if r.url.path == LIST] == [b"{}"] * 5  # 9 wanted fill 3, 2 spare


async def test_the_page_size_comes_from_the_answer(start_sandbox, cryptomus_for):
    """perPage 5: the wanted 12 fill three pages, so the walk reads five and finds the two oldest on the fifth
    (at the documented 15 a page it would read three and ask those two by themselves)."""
    box = start_sandbox(cryptomus_page_size=5)
    recorder = RecordingTransport()
    client = cryptomus_for(box, transport=recorder)
    oldest, newest = ["old-1", "old-2"], [f"new-{n}" for n in range(10)]
    await sent(client, *oldest, *(f"other-{n}" for n in range(10)), *newest)
    recorder.requests.clear()

    states = await client.fetch_states([*newest, *oldest])

    assert all(states[key].idempotency_key == key for key in [*newest, *oldest])
    assert recorder.paths() == [LIST] * 5
