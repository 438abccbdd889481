"""Device management from the server's own socket towards a registered aiocoap client."""

from __future__ import annotations

import asyncio
import hashlib
import os

from aiocoap import Code

from lwm2m_test_client import Lwm2mTestClient
from server_harness import run, running_server


async def _registered(server, name="dm-1"):
    client = Lwm2mTestClient(name, server.port)
    await client.start()
    await server.wait_registration(name, 5, after=0)
    return client


def test_read_single_resource_text_and_instance_tlv(tmp_path):
    async def body():
        async with running_server(tmp_path) as server:
            client = await _registered(server)
            try:
                client.set_state(1)
                state = await server.read("dm-1", "/5/0/3")
                assert state.ok and state.content_format == 0 and state.value == 1
                client.obj.uri = "coap://x/fw"
                instance = await server.read("dm-1", "/5/0")
                assert instance.ok and instance.content_format == 11542
                assert instance.values[(5, 0, 3)] == 1
                assert instance.values[(5, 0, 1)] == "coap://x/fw"
                assert instance.values[(5, 0, 7)] == "1.0.0"
                missing = await server.read("dm-1", "/5/0/4")
                assert missing.code == Code.NOT_FOUND and not missing.ok
            finally:
                await client.stop()

    run(body)


def test_write_execute_and_4_05_outside_downloaded(tmp_path):
    async def body():
        async with running_server(tmp_path) as server:
            client = await _registered(server)
            try:
                wrote = await server.write("dm-1", "/5/0/1", "coap://127.0.0.1/fw/a.bin")
                assert wrote.ok and client.obj.uri == "coap://127.0.0.1/fw/a.bin"
                refused = await server.execute("dm-1", "/5/0/2")
                assert refused.code == Code.METHOD_NOT_ALLOWED and client.obj.executed == 0
                client.set_state(2)
                done = await server.execute("dm-1", "/5/0/2")
                assert done.ok and client.obj.executed == 1 and client.obj.state == 3
                ops = [(e.data["op"], e.data["code"]) for e in server.timeline.events("request")]
                assert ("execute", "4.05") in ops and ("execute", "2.04") in ops
            finally:
                await client.stop()

    run(body)


def test_write_attributes_and_observe_notifications_become_events(tmp_path):
    async def body():
        async with running_server(tmp_path) as server:
            client = await _registered(server)
            try:
                attrs = await server.write_attributes("dm-1", "/5/0", pmin=0, pmax=5)
                assert attrs.ok and client.attributes == [("pmin=0", "pmax=5")]
                first, obs = await server.observe("dm-1", "/5/0/3")
                assert first.ok and first.value == 0
                start = len(server.timeline)
                client.set_state(1)
                client.set_state(2)
                seen = await server.timeline.wait_for_async(
                    lambda e: e.kind == "notify" and e.data["values"].get("5/0/3") == 2, 5, start
                )
                assert seen is not None
                obs.cancel()
                obs.cancel()
                await asyncio.wait_for(obs.closed(), 2)
                assert not obs.running
            finally:
                await client.stop()

    run(body)


def test_push_100k_lands_intact_with_block_events(tmp_path):
    data = os.urandom(100 * 1024 + 17)
    (tmp_path / "fw.bin").write_bytes(data)

    async def body():
        async with running_server(tmp_path) as server:
            client = await _registered(server)
            try:
                result = await server.push_firmware("dm-1", tmp_path / "fw.bin", block_size=512)
                assert result.completed and result.code == "2.04", result
                assert hashlib.sha256(client.obj.package).digest() == hashlib.sha256(data).digest()
                blocks = server.timeline.events("block1")
                assert [b.data["num"] for b in blocks] == list(range(len(blocks)))
                assert len(blocks) == -(-len(data) // 512)
            finally:
                await client.stop()

    run(body)


def test_request_to_silent_client_is_an_outcome_not_a_crash(tmp_path):
    async def body():
        async with running_server(tmp_path, request_timeout=1.0) as server:
            client = await _registered(server)
            await client.stop()
            response = await server.read("dm-1", "/5/0/3")
            assert not response.ok and response.code is None and response.error

    run(body)


def _observing(server) -> list:
    """aiocoap's own bookkeeping (the token manager's outgoing requests) of observations still held."""
    return [pipe for ri in server.context.request_interfaces for pipe in getattr(ri, "outgoing_requests", {}).values()
            if pipe.request.opt.observe == 0]


def test_a_cancelled_observation_of_a_client_that_went_silent_is_freed_at_once(tmp_path):
    # A power cut ends a device without a word: aiocoap would keep the observation until a next notification
    # that never comes (chrysn/aiocoap#92), a night of cuts would keep all of them. Fails when aiocoap's
    # internals that rig.lwm2m.observe_release reaches move.
    async def body():
        async with running_server(tmp_path) as server:
            client = await _registered(server)
            first, obs = await server.observe("dm-1", "/5/0/3")
            assert first.ok and len(_observing(server)) == 1
            await client.stop()
            obs.cancel()
            await asyncio.wait_for(obs.closed(), 2)
            assert _observing(server) == []

    run(body)


def test_a_request_the_rig_stops_waiting_for_is_recorded_unanswered(tmp_path):
    """A power cut cancels an Execute in flight: the device may have obeyed it, so the verdict must see it sent."""
    async def body():
        async with running_server(tmp_path, request_timeout=30.0) as server:
            client = await _registered(server)
            await client.stop()  # silent from here on: the Execute goes out and is never answered
            execute = asyncio.ensure_future(server.execute("dm-1", "/5/0/2"))
            await asyncio.sleep(0)  # one turn of the loop: the task runs until it waits for the answer (sent)
            assert not execute.done()
            execute.cancel()
            await asyncio.gather(execute, return_exceptions=True)
            recorded = [e.data for e in server.timeline.events("request") if e.data["op"] == "execute"]
            assert len(recorded) == 1 and recorded[0]["code"] is None and recorded[0]["sent"] is not None, recorded
            assert "stopped waiting" in recorded[0]["error"]
            never_sent = asyncio.ensure_future(server.execute("dm-1", "/5/0/2"))
            never_sent.cancel()  # before it ran: nothing went out, nothing is recorded
            await asyncio.gather(never_sent, return_exceptions=True)
            assert [e.data["op"] for e in server.timeline.events("request")].count("execute") == 1

    run(body)
