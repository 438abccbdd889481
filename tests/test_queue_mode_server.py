"""Queue mode in the rig's server, against a real aiocoap client whose radio sleeps (rig.sim.app.radio).

Real sockets on loopback, the real server: requests to a client that registered with
`Q` are held while it sleeps and go out one at a time, in order, when it sends an
Update; their timeout counts from sending; an unanswered one waits for the next
wake-up; they end with the registration; an observation made before a sleep still
delivers after it.
"""

from __future__ import annotations

import asyncio

import pytest

from lwm2m_test_client import Lwm2mTestClient
from rig.sim.app.radio import Radio
from rig.timeline import Timeline
from server_harness import run, running_server

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

EP = "sleepy"


def mine(kind: str):
    return lambda e: e.kind == kind and e.data.get("endpoint") == EP


async def queued_client(server, lifetime: int = 60, radio_awake: float = 0.3) -> tuple[Lwm2mTestClient, Radio, list[str]]:
    """A client registered in queue mode whose radio drops what arrives while it sleeps."""
    client = Lwm2mTestClient(EP, server.port)
    await client.start(lifetime=lifetime, queue_mode=True)
    lines: list[str] = []
    radio = Radio(radio_awake, lines.append)
    radio.attach(client.context)
    radio.start()
    return client, radio, lines


async def until(timeline: Timeline, predicate, timeout: float = 10.0, start: int = 0):
    event = await timeline.wait_for_async(predicate, timeout, start)
    assert event is not None, f"waited {timeout} s; last events {[e.kind for e in timeline.events()[-8:]]}"
    return event


def test_registration_says_queue_mode_in_1_1_and_1_0_form():
    from rig.lwm2m.registration_query import parse_query

    assert parse_query(["ep=a", "Q"], register=True).queue_mode
    assert parse_query(["ep=a", "b=UQ"], register=True).queue_mode
    assert not parse_query(["ep=a", "b=U"], register=True).queue_mode


def test_held_requests_go_out_in_order_one_at_a_time_after_the_wakeup(tmp_path):
    async def body() -> None:
        async with running_server(tmp_path, awake_time=0.3) as server:
            timeline = server.timeline
            client, radio, _ = await queued_client(server)
            try:
                assert server.registration(EP).queue_mode
                await until(timeline, mine("asleep"))
                asked = [asyncio.ensure_future(server.read(EP, "/5/0/3")),
                         asyncio.ensure_future(server.write(EP, "/5/0/1", "coap://example/fw")),
                         asyncio.ensure_future(server.execute(EP, "/5/0/2"))]
                for ahead in range(3):
                    await until(timeline, lambda e, ahead=ahead: e.kind == "request-held" and e.data["ahead"] == ahead)
                held = [e for e in timeline.events() if e.kind == "request-held"]
                assert [(e.data["op"], e.data["ahead"], e.data["asleep"]) for e in held] == \
                    [("read", 0, True), ("write", 1, True), ("execute", 2, True)]
                assert client.seen == [] and not any(t.done() for t in asked), "nothing goes out while it sleeps"
                mark = len(timeline)
                assert (await client.update()).code.dotted == "2.04"  # the wake-up
                read, write, execute = await asyncio.gather(*asked)
                assert (read.code_text, write.code_text, execute.code_text) == ("2.05", "2.04", "4.05")
                assert client.seen == [("GET", "/5/0/3"), ("PUT", "/5/0/1"), ("POST", "/5/0/2")]
                events = [e for e in timeline.events(since=mark) if e.kind in ("update", "request-sent", "request")]
                assert [e.kind for e in events] == ["update"] + ["request-sent", "request"] * 3, \
                    "each goes out after the one before it was answered"
                assert all(e.data["held"] > 0 for e in events if e.kind == "request")
            finally:
                radio.close()
                await client.stop()

    run(body)


def test_the_timeout_counts_from_sending_not_from_holding(tmp_path):
    async def body() -> None:
        async with running_server(tmp_path, awake_time=0.3, request_timeout=1.0) as server:
            timeline = server.timeline
            client, radio, _ = await queued_client(server)
            try:
                await until(timeline, mine("asleep"))
                read = asyncio.ensure_future(server.read(EP, "/5/0/3"))
                await until(timeline, mine("request-held"))
                await asyncio.sleep(1.5)  # held longer than the request timeout: that must not count
                await client.update()
                answer = await read
                assert answer.ok and answer.value == 0
                assert timeline.events("request")[-1].data["held"] >= 1.5
            finally:
                radio.close()
                await client.stop()

    run(body)


def test_a_held_request_ends_with_the_registration(tmp_path):
    async def body() -> None:
        async with running_server(tmp_path, awake_time=0.3) as server:
            timeline = server.timeline
            client, radio, _ = await queued_client(server, lifetime=2)
            try:
                await until(timeline, mine("asleep"))
                answer = await server.read(EP, "/5/0/3")  # no Update comes: the lifetime runs out first
                assert not answer.ok and "ended" in answer.error and "before the device woke" in answer.error
                kinds = [e.kind for e in timeline.events() if e.data.get("endpoint") == EP]
                assert kinds.index("request-held") < kinds.index("expire") < kinds.index("request-expired")
                assert client.seen == []
            finally:
                radio.close()
                await client.stop()

    run(body)


def test_an_unanswered_request_waits_for_the_next_wakeup(tmp_path):
    async def body() -> None:
        # The server thinks the client listens 5 s; its radio sleeps after 0.2 s: the read is lost once.
        async with running_server(tmp_path, awake_time=5.0, request_timeout=0.6) as server:
            timeline = server.timeline
            client, radio, lines = await queued_client(server, radio_awake=0.2)
            try:
                await asyncio.sleep(0.4)  # the radio is off by now (its own timer), the server does not know it
                read = asyncio.ensure_future(server.read(EP, "/5/0/3"))
                requeued = await until(timeline, mine("request-requeued"))
                assert requeued.data["attempt"] == 1
                assert any("dropped GET /5/0/3" in line for line in lines), lines
                await until(timeline, mine("asleep"))
                await client.update()
                answer = await read
                assert answer.ok and timeline.events("request")[-1].data["attempts"] == 2
            finally:
                radio.close()
                await client.stop()

    run(body)


def test_an_observation_made_before_a_sleep_notifies_after_it(tmp_path):
    async def body() -> None:
        async with running_server(tmp_path, awake_time=0.3) as server:
            timeline = server.timeline
            client, radio, _ = await queued_client(server)
            try:
                first, observation = await server.observe(EP, "/5/0/3")
                assert first.value == 0
                slept = await until(timeline, mine("asleep"))
                await client.update()
                client.set_state(1)  # the client woke and reports its change on the old observation
                note = await until(timeline, lambda e: e.kind == "notify" and not e.data["first"], start=0)
                assert note.t > slept.t and note.data["values"] == {"5/0/3": 1} and observation.running
                assert not [e for e in timeline.events() if e.kind == "request" and e.data["op"] == "observe"][1:]
            finally:
                radio.close()
                await client.stop()

    run(body)


def test_an_endpoint_not_in_queue_mode_is_never_held(tmp_path):
    async def body() -> None:
        async with running_server(tmp_path, awake_time=0.1) as server:
            timeline = server.timeline
            client = Lwm2mTestClient(EP, server.port)
            await client.start()
            try:
                await asyncio.sleep(0.3)
                answers = await asyncio.gather(server.read(EP, "/5/0/3"), server.read(EP, "/5/0/5"))
                assert all(a.ok for a in answers)
                kinds = {e.kind for e in timeline.events()}
                assert not kinds & {"request-held", "awake", "asleep"}
            finally:
                await client.stop()

    run(body)


def test_the_aiocoap_internals_used_to_abandon_exchanges_are_still_there():
    from rig.lwm2m.coap_exchanges import supported

    assert supported(), "aiocoap's MessageManager moved _active_exchanges/_continue_backlog: see rig.lwm2m.coap_exchanges"


def test_a_wait_on_a_sleeping_device_lasts_until_its_next_wakeup_not_its_timeout(tmp_path):
    """The campaign's wait for a State: a device that reports it only at a later wake-up is not stuck."""
    from rig.campaign.driver import UpdateDriver
    from rig.place.session import PlaceSession

    async def body() -> None:
        async with running_server(tmp_path, awake_time=0.3) as server:
            timeline = server.timeline
            client, radio, _ = await queued_client(server, lifetime=2)
            session = PlaceSession(name="t", endpoint=EP, layout=None, profile=None, boot_timeout=1.0, power=None,
                                   probe=None, console=None, server=server, timeline=timeline)
            try:
                assert session.sleep_allowance() == 2.0
                client.set_state(1)
                await until(timeline, mine("asleep"))
                waiting = asyncio.ensure_future(UpdateDriver(session, poll_interval=0.1).wait_state({2}, 0.3))
                await until(timeline, mine("request-held"))
                await asyncio.sleep(0.5)  # the device sleeps past the wait's 0.3 s
                await client.update()  # first wake-up: still Downloading
                await until(timeline, lambda e: e.kind == "request" and e.data.get("values") == {"5/0/3": 1})
                client.set_state(2)
                await until(timeline, mine("asleep"), start=len(timeline))
                await client.update()  # next wake-up: Downloaded
                assert await waiting == 2
            finally:
                radio.close()
                await client.stop()

    run(body)
