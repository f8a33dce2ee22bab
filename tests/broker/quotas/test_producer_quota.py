"""The issue's acceptance test: a 1 MB/s producer quota holds a real producer at 1 MB/s
while a client without a quota is unaffected."""

from __future__ import annotations

import threading
import time
import uuid

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess
from tests.support.net import wait_until
from tests.support.quotas import alter_quotas
from tests.support.wire import KafkaWire

QUOTA = 1_048_576  # producer_byte_rate, bytes/s
VALUE = b"x" * 10_000


class _Pusher:
    """A confluent-kafka producer sending as fast as it can; acknowledged value bytes
    are stamped with the time their delivery report arrived."""

    def __init__(self, bootstrap: str, client_id: str, topic: str) -> None:
        self.acked: list[tuple[float, int]] = []
        self.throttles: list[int] = []
        self.topic = topic
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "client.id": client_id,
                "linger.ms": 5,
                # Small batches: acknowledgements then arrive in ~64 KB steps, a fine grain
                # for a 10 MB measurement (librdkafka's default would be 1 MB steps).
                "batch.size": 65_536,
                "compression.type": "none",
                "throttle_cb": lambda event: self.throttles.append(event.throttle_time),
            }
        )
        self.stop = threading.Event()

    def _delivered(self, err: object, msg: object) -> None:
        if err is None:
            self.acked.append((time.monotonic(), len(VALUE)))

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.producer.produce(self.topic, VALUE, on_delivery=self._delivered)
            except BufferError:
                self.producer.poll(0.05)
                continue
            self.producer.poll(0)
        self.producer.purge()  # what is still queued would only wait out the throttle
        self.producer.flush(10)

    def bytes_between(self, start: float, end: float) -> int:
        return sum(size for at, size in list(self.acked) if start <= at < end)


def test_a_producer_byte_rate_quota_holds_the_client_at_its_rate(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    limited_topic, free_topic = f"q-{uuid.uuid4().hex[:8]}", f"f-{uuid.uuid4().hex[:8]}"
    for future in admin.create_topics(
        [NewTopic(limited_topic, 1), NewTopic(free_topic, 1)]
    ).values():
        future.result(30)
    with KafkaWire("127.0.0.1", broker.port) as wire:
        result = alter_quotas(wire, {"client-id": "limited"}, {"producer_byte_rate": QUOTA})
        assert result.error_code == 0

    limited = _Pusher(broker.bootstrap, "limited", limited_topic)
    free = _Pusher(broker.bootstrap, "unlimited", free_topic)
    threads = [threading.Thread(target=p.run, daemon=True) for p in (limited, free)]
    for thread in threads:
        thread.start()
    try:
        # Warm-up: the quota's burst (11 s worth, Kafka's quota.window.num x size) is used
        # up and the broker has started throttling the limited client.
        wait_until(lambda: limited.throttles, timeout=60, what="the limited client to be throttled")
        # The window opens 1 s after the first throttle (the requests in flight then
        # were sent before it) and lasts 10 s, as the issue states; this is the
        # measurement's duration, not a wait for some condition.
        start = time.monotonic() + 1.0
        end = start + 10.0
        time.sleep(end - time.monotonic())
    finally:
        for pusher in (limited, free):
            pusher.stop.set()
        for thread in threads:
            thread.join(60)

    limited_rate = limited.bytes_between(start, end) / 10.0
    free_rate = free.bytes_between(start, end) / 10.0
    # The broker measures whole Produce requests (Kafka's rule): record batch headers,
    # record framing and the request header add ~1% to the 10 KB values counted here,
    # so the acknowledged value rate sits just under the quota. The ±15% covers that,
    # the 64 KB steps in which acknowledgements arrive, up to 5 requests in flight when
    # the window opens or closes, and scheduling noise on a shared 2-core machine.
    assert 0.85 * QUOTA <= limited_rate <= 1.15 * QUOTA, limited_rate
    assert max(limited.throttles) > 0
    # The client without a quota is never throttled and goes far faster.
    assert not any(throttle > 0 for throttle in free.throttles)
    assert free_rate > 3 * QUOTA, free_rate
