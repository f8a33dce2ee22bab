"""queued.max.request.bytes: the memory held for incoming requests is bounded broker-wide.

On main before this change, ten connections that each announced a 100 MiB frame and
then sent it raised the broker's RSS by over a gigabyte. Now each frame is granted from
one pool (256 MiB by default) when its size prefix arrives, and a connection whose
frame does not fit is not read from until it does.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from kio.schema.api_versions.v0.request import ApiVersionsRequest as ApiVersionsRequestV0

from broker.config import ConfigError, config_from_properties
from broker.server.request_memory import FrameGrant, RequestMemoryPool
from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_create_topic, confluent_produce, make_records
from tests.support.fuzz import vm_rss_kib
from tests.support.net import wait_until
from tests.support.raw_wire import RawConnection, encode_request

MIB = 1024 * 1024
FRAME = 100 * MIB  # socket.request.max.bytes, Kafka's default
CONNECTIONS = 10
POOL = 256 * MIB  # queued.max.request.bytes, Headwater's default
# a granted frame is joined from its chunks once whole (transiently twice its size),
# plus the interpreter and read buffers: well under the 1 GB the ten frames make
RSS_GROWTH_LIMIT = 2 * POOL + 128 * MIB


# --- the pool itself -------------------------------------------------------------------


def test_pool_grants_first_fit_and_wakes_waiters_on_release() -> None:
    async def scenario() -> list[str]:
        pool = RequestMemoryPool(100)
        order: list[str] = []
        big, small = FrameGrant(pool), FrameGrant(pool)
        await big.cover(90)

        async def wait(grant: FrameGrant, size: int, name: str) -> None:
            await grant.cover(size)
            order.append(name)

        waiting_big = asyncio.create_task(wait(FrameGrant(pool), 60, "second big"))
        await asyncio.sleep(0)
        await wait(small, 10, "small")  # fits beside the first big frame: not queued
        assert pool.waiting == 1 and pool.used == 100
        big.release()
        small.release()
        await waiting_big
        assert pool.used == 60
        return order

    assert asyncio.run(scenario()) == ["small", "second big"]


def test_a_cancelled_waiter_gives_nothing_back_twice() -> None:
    async def scenario() -> int:
        pool = RequestMemoryPool(10)
        holder = FrameGrant(pool)
        await holder.cover(10)
        task = asyncio.create_task(FrameGrant(pool).cover(5))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        holder.release()
        return pool.used

    assert asyncio.run(scenario()) == 0


def test_unbounded_pool_always_grants() -> None:
    pool = RequestMemoryPool(-1)
    assert pool.try_acquire(10**12) and pool.used == 0


def test_pool_smaller_than_the_largest_request_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"queued\.max\.request\.bytes"):
        config_from_properties(
            {"socket.request.max.bytes": "1048576", "queued.max.request.bytes": "1000"}
        )
    assert config_from_properties({"queued.max.request.bytes": "-1"}).queued_max_request_bytes == -1
    assert config_from_properties({}).queued_max_request_bytes == POOL


# --- ten connections announcing 100 MiB each ------------------------------------------


@pytest.fixture
def pool_broker(tmp_path) -> Iterator[BrokerProcess]:  # type: ignore[no-untyped-def]
    proc = BrokerProcess(tmp_path / "broker")  # the defaults: 100 MiB frames, 256 MiB pool
    proc.start()
    yield proc
    proc.stop()


def _big_frame_sender(port: int, done: list[bytes], errors: list[BaseException]) -> None:
    """An ApiVersions v0 request padded to a 100 MiB frame (trailing bytes are legal),
    announced at once and sent in 1 MiB pieces; the answer is appended to ``done``."""
    request = encode_request(ApiVersionsRequestV0(), correlation_id=1)[4:]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
            sock.sendall(struct.pack(">i", FRAME) + request)
            remaining = FRAME - len(request)
            piece = bytes(MIB)
            while remaining:
                chunk = min(remaining, MIB)
                sock.sendall(piece[:chunk])
                remaining -= chunk
            size = struct.unpack(">i", _recv_exactly(sock, 4))[0]
            done.append(_recv_exactly(sock, size))
    except BaseException as exc:
        errors.append(exc)


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed by the broker")
        data += chunk
    return data


@pytest.mark.timeout(240)
def test_ten_100_mib_frames_stay_within_the_pool_and_a_normal_client_still_produces(
    pool_broker: BrokerProcess,
) -> None:
    assert pool_broker.proc is not None
    pid = pool_broker.proc.pid
    confluent_create_topic(pool_broker.bootstrap, "beside-big-frames", 1)
    base = vm_rss_kib(pid) * 1024
    done: list[bytes] = []
    errors: list[BaseException] = []
    senders = [
        threading.Thread(target=_big_frame_sender, args=(pool_broker.port, done, errors))
        for _ in range(CONNECTIONS)
    ]
    for sender in senders:
        sender.start()
    peak = base
    produced = False
    deadline = time.monotonic() + 200
    while any(s.is_alive() for s in senders):
        assert time.monotonic() < deadline, f"{len(done)} of {CONNECTIONS} frames answered"
        peak = max(peak, vm_rss_kib(pid) * 1024)
        if not produced:  # while big frames are in flight or muted
            delivered = confluent_produce(
                pool_broker.bootstrap, "beside-big-frames", make_records(50), timeout=60
            )
            produced = len(delivered) == 50
        time.sleep(0.02)
    for sender in senders:
        sender.join()

    assert errors == []
    assert len(done) == CONNECTIONS  # every frame completed once its bytes came
    assert produced
    assert peak - base < RSS_GROWTH_LIMIT, f"RSS grew by {(peak - base) / MIB:.0f} MiB"


def test_a_frame_over_socket_request_max_bytes_is_closed_before_its_bytes_come(
    pool_broker: BrokerProcess,
) -> None:
    with RawConnection("127.0.0.1", pool_broker.port) as conn:
        conn.send(struct.pack(">i", FRAME + 1))
        assert conn.closed_by_peer(timeout=5)
    wait_until(lambda: "socket.request.max.bytes" in pool_broker.log(), timeout=5)
