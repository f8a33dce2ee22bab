"""Reading a topic live: a Kafka consumer that starts at the end of every partition.

Why confluent-kafka (librdkafka) rather than aiokafka: it is the console's one Kafka
client stack (``console.broker_admin`` uses it too, and it is the declared runtime
dependency), so connection and security settings map once; librdkafka speaks the
flexible protocol versions and does its fetching on its own threads. Its calls
block, so each tail owns one thread that creates, polls and closes the consumer;
the event loop only awaits a bounded queue (which also gives back-pressure: a slow
browser stops the polling instead of growing memory).

There is no consumer group in use: librdkafka insists on a ``group.id``, so each tail
gets a throwaway one, but it never subscribes, joins or commits. It ``assign``\\ s
every partition at an explicit offset: the high watermark it read with ListOffsets
just before, so a record produced after ``tail.started`` is always delivered. Every
``partition_refresh`` seconds it re-reads Metadata and assigns partitions added since
at their beginning.

Events put on the queue (and sent to the browser as JSON):

* ``tail.started``: ``{"topic", "partitions": {"0": start_offset, ...}}``
* ``topic.records``: ``{"topic", "records": [render_record(...), ...]}``
* ``tail.partitions``: ``{"topic", "added": {"3": 0}}``
* ``topic.offsets``: ``{"topic", "partitions": {"0": {"log_start_offset",
  "high_watermark"}, ...}}``, at most every ``offsets_interval`` seconds and only when
  they changed: the page's partition table stays live. They are librdkafka's cached
  watermarks, which every fetch response refreshes, so they cost no request.
* ``tail.disconnected``: ``{"topic", "message"}``: the cluster cannot be reached (the
  consumer reported every broker down, or a metadata refresh failed); the tail keeps
  retrying. ``tail.connected``: ``{"topic"}``: it is reachable again, and records flow
  from where they stopped.
* ``tail.error``: ``{"topic", "message"}``; the tail has stopped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from console.records import render_record

logger = logging.getLogger(__name__)
_KAFKA_LOG = logging.getLogger("headwater.kafka")

Event = dict[str, Any]
_END: Event = {"type": "tail.end"}


class TailError(Exception):
    """The tail cannot start or continue; the message is for the operator."""


class TopicTail:
    """A live tail of one topic; see the module docstring.

    ``await start()``, then ``async for event in events()``; ``await stop()`` closes the
    Kafka consumer and returns once it is closed (``closed`` is then true).
    """

    def __init__(
        self,
        *,
        topic: str,
        bootstrap_servers: str,
        client_config: dict[str, str] | None = None,
        poll_timeout: float = 0.2,
        request_timeout: float = 5.0,
        partition_refresh: float = 2.0,
        offsets_interval: float = 1.0,
        max_records: int = 500,
    ) -> None:
        self.topic = topic
        self.bootstrap_servers = bootstrap_servers
        self.client_config = dict(client_config or {})  # SASL login properties
        self.poll_timeout = poll_timeout
        self.request_timeout = request_timeout
        self.partition_refresh = partition_refresh
        self.max_records = max_records
        self.offsets_interval = offsets_interval
        self._unreachable: str | None = None  # set by librdkafka's error callback
        self._reported_unreachable = False
        self._offsets: dict[int, tuple[int, int]] = {}
        self._stopping = threading.Event()
        self._closed = threading.Event()
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=16)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def closed(self) -> bool:
        """True once the Kafka consumer has been closed."""
        return self._closed.is_set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=f"tail:{self.topic}", daemon=True)
        self._thread.start()

    async def events(self) -> AsyncIterator[Event]:
        """Events until the tail stops on its own (after a ``tail.error``)."""
        while True:
            event = await self._queue.get()
            if event is _END:
                return
            yield event

    async def stop(self) -> None:
        """Stop polling and wait until the Kafka consumer is closed."""
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    # -- the tail's own thread -------------------------------------------------

    def _config(self) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": "headwater-console-tail",
            "group.id": f"headwater-console-tail-{uuid.uuid4()}",  # required, never joined
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": False,
            "allow.auto.create.topics": False,
            "reconnect.backoff.max.ms": 1000,
            "logger": _KAFKA_LOG,
            "error_cb": self._on_client_error,
            **self.client_config,
        }

    def _on_client_error(self, error: KafkaError) -> None:
        """librdkafka's error callback (on this thread, inside ``consume``)."""
        if error.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT):
            self._unreachable = error.str()

    def _emit(self, event: Event) -> bool:
        """Queue ``event`` for the event loop, blocking while the queue is full.

        Returns False (dropping the event) once the tail is stopping or the loop is gone.
        """
        assert self._loop is not None
        try:
            future = asyncio.run_coroutine_threadsafe(self._queue.put(event), self._loop)
        except RuntimeError:  # event loop closed
            return False
        while True:
            try:
                future.result(timeout=self.poll_timeout)
                return True
            except concurrent.futures.TimeoutError:
                if self._stopping.is_set():
                    future.cancel()
                    return False
            except concurrent.futures.CancelledError:
                return False

    def _run(self) -> None:
        consumer: Consumer | None = None
        try:
            consumer = Consumer(self._config())
            self._consume(consumer)
        except (TailError, KafkaException) as exc:
            message = str(exc)
            if isinstance(exc, KafkaException):
                message = f"cannot read from the Kafka cluster at {self.bootstrap_servers}: {exc}"
            self._emit({"type": "tail.error", "topic": self.topic, "message": message})
        except Exception:
            logger.exception("tail of %r failed", self.topic)
            self._emit({"type": "tail.error", "topic": self.topic, "message": "internal error"})
        finally:
            if consumer is not None:
                consumer.close()
            self._closed.set()
            self._emit(_END)

    def _partitions(self, consumer: Consumer) -> list[int]:
        """The topic's partitions from Metadata for all topics (which never auto-creates)."""
        metadata = consumer.list_topics(timeout=self.request_timeout)
        topic = metadata.topics.get(self.topic)
        if topic is None or (
            topic.error is not None and topic.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
        ):
            raise TailError(f"topic {self.topic!r} does not exist")
        return sorted(topic.partitions)

    def _assign_at_end(self, consumer: Consumer) -> dict[int, int]:
        starts = {}
        for partition in self._partitions(consumer):
            _log_start_offset, high_watermark = consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=self.request_timeout, cached=False
            )
            starts[partition] = high_watermark
        consumer.assign([TopicPartition(self.topic, p, offset) for p, offset in starts.items()])
        return starts

    def _report_reachability(self) -> bool:
        """Emit ``tail.disconnected`` once the cluster became unreachable (False: the
        tail is stopping)."""
        if self._unreachable is None or self._reported_unreachable:
            return True
        self._reported_unreachable = True
        message = f"cannot reach the Kafka cluster at {self.bootstrap_servers}, retrying"
        return self._emit({"type": "tail.disconnected", "topic": self.topic, "message": message})

    def _assign_new_partitions(self, consumer: Consumer, assigned: set[int]) -> None:
        try:
            added = [p for p in self._partitions(consumer) if p not in assigned]
        except KafkaException as exc:
            self._unreachable = str(exc)  # no metadata within the timeout: unreachable
            return
        except TailError:
            return  # records will tell if the topic is gone
        self._unreachable = None
        if self._reported_unreachable:
            self._reported_unreachable = False
            self._emit({"type": "tail.connected", "topic": self.topic})
        if not added:
            return
        consumer.incremental_assign(
            [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in added]
        )
        assigned.update(added)
        self._emit(
            {"type": "tail.partitions", "topic": self.topic, "added": {str(p): 0 for p in added}}
        )

    def _consume(self, consumer: Consumer) -> None:
        starts = self._assign_at_end(consumer)
        assigned = set(starts)
        started = {
            "type": "tail.started",
            "topic": self.topic,
            "partitions": {str(p): o for p, o in starts.items()},
        }
        if not self._emit(started):
            return
        next_refresh = time.monotonic() + self.partition_refresh
        next_offsets = time.monotonic()
        while not self._stopping.is_set():
            records = []
            for message in consumer.consume(
                num_messages=self.max_records, timeout=self.poll_timeout
            ):
                error = message.error()
                if error is None:
                    records.append(render_record(message))
                elif error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise TailError(f"topic {self.topic!r} no longer exists")
                elif error.fatal():
                    raise KafkaException(error)
                else:
                    logger.debug("tail of %r: %s", self.topic, error)
            if records and not self._emit(
                {"type": "topic.records", "topic": self.topic, "records": records}
            ):
                return
            if not self._report_reachability():
                return
            if time.monotonic() >= next_offsets:
                self._emit_offsets(consumer, assigned)
                next_offsets = time.monotonic() + self.offsets_interval
            if time.monotonic() >= next_refresh:
                self._assign_new_partitions(consumer, assigned)
                next_refresh = time.monotonic() + self.partition_refresh

    def _emit_offsets(self, consumer: Consumer, assigned: set[int]) -> None:
        """``topic.offsets`` with the watermarks that changed since the last one."""
        changed = {}
        for partition in sorted(assigned):
            low, high = consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), cached=True
            )
            if low < 0 or high < 0:  # not known yet (no fetch answered for it)
                continue
            if self._offsets.get(partition) != (low, high):
                self._offsets[partition] = (low, high)
                changed[str(partition)] = {"log_start_offset": low, "high_watermark": high}
        if changed:
            self._emit({"type": "topic.offsets", "topic": self.topic, "partitions": changed})
