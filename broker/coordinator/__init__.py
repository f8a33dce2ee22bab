"""Kafka's group coordinator: consumer groups and their offsets in ``__consumer_offsets``.

Sans-IO, as Kafka's own ``GroupCoordinatorShard`` is: every operation takes the time as
an argument and returns a :class:`~broker.coordinator.results.CoordinatorResult` naming
the records to append to ``__consumer_offsets`` and the responses to give; nothing here
touches a socket, a file or a clock. The thin asyncio adapter is
:mod:`broker.coordinator.service` (it appends, completes waiting requests and feeds
timeouts back in as events).

Modules
    ``group``        the classic group model and its state transition table
    ``classic``      JoinGroup, SyncGroup, Heartbeat, LeaveGroup and their timeouts
    ``rebalance``    the join phase, generations and timeouts shared by ``classic``
    ``consumer_group`` KIP-848 ConsumerGroupHeartbeat: epochs and reconciliation
    ``assignors``    KIP-848 server-side assignors (uniform, range)
    ``offsets``      OffsetCommit, OffsetFetch, OffsetDelete, offset expiry
    ``coordinator``  the facade owning every group: list, describe, delete, load
    ``records``      the binary key/value formats of ``__consumer_offsets``
    ``config``       the ``group.*`` and ``offsets.*`` broker settings
    ``service``      the asyncio adapter: appends, futures, the timer loop

See docs/consumer-groups.md for the state machine, the record formats and the settings.
"""
