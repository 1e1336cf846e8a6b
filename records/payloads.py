"""Temporal's external payload storage in the records database: a payload over the threshold is kept here once, by
its SHA-256, and the history holds a reference; every worker, command and audit that reads the history reads it back."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from google.protobuf import json_format
from google.protobuf.message import Message
from sqlalchemy import LargeBinary, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1.external_storage_pb2 import ExternalStorageReference
from temporalio.converter import (
    ExternalStorage,
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
)

from records.statements import insert_new
from records.tables import AwareDateTime

THRESHOLD = 256 * 1024  # bytes: half Temporal's warning size, an eighth of its limit
REFERENCE_TYPE = ExternalStorageReference.DESCRIPTOR.full_name.encode()


class PayloadRow(SQLModel, table=True):
    """One payload stored outside Temporal's history, once per SHA-256 of its serialized bytes."""

    __tablename__ = "workflow_payloads"
    sha256: str = Field(primary_key=True)
    size: int
    content: bytes = Field(sa_type=LargeBinary)
    stored_at: datetime = Field(sa_type=AwareDateTime)


PAYLOADS = PayloadRow.__table__  # type: ignore[attr-defined]


class PayloadMissing(LookupError):
    """A history refers to a payload the records database does not hold (another database, or rows deleted)."""


class RecordsPayloadDriver(StorageDriver):
    """Stores payloads in the records database's `workflow_payloads`. Content-addressed: a retried store, or the same
    payload of two workflows, writes one row."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def name(self) -> str:
        return "records"

    def type(self) -> str:
        return "grantflow.records"

    async def store(self, context: StorageDriverStoreContext, payloads: Sequence[Payload]) -> list[StorageDriverClaim]:
        rows = [(hashlib.sha256(data).hexdigest(), data) for data in (p.SerializeToString() for p in payloads)]
        await asyncio.to_thread(self._insert, rows)
        return [StorageDriverClaim({"sha256": digest}) for digest, _ in rows]

    def _insert(self, rows: list[tuple[str, bytes]]) -> None:
        """A row stored again gets the later instant: retention (`prune`) counts from a payload's last store."""
        now = datetime.now(UTC)
        with self.engine.begin() as c:
            c.execute(insert_new(c, PAYLOADS), [{"sha256": digest, "size": len(data), "content": data,
                                                "stored_at": now} for digest, data in rows])
            c.execute(update(PAYLOADS).where(PAYLOADS.c.sha256.in_([d for d, _ in rows]), PAYLOADS.c.stored_at < now)
                      .values(stored_at=now))

    async def retrieve(self, context: StorageDriverRetrieveContext,
                       claims: Sequence[StorageDriverClaim]) -> list[Payload]:
        digests = [c.claim_data["sha256"] for c in claims]
        found = await asyncio.to_thread(self._select, digests)
        missing = [d for d in digests if d not in found]
        if missing:
            raise PayloadMissing(f"payload sha256 {missing[0]} is not in the records database "
                                 f"({self.engine.url.render_as_string(hide_password=True)}); {len(missing)} missing")
        return [Payload.FromString(found[d]) for d in digests]

    def _select(self, digests: list[str]) -> dict[str, bytes]:
        with self.engine.connect() as c:
            rows = c.execute(select(PAYLOADS.c.sha256, PAYLOADS.c.content).where(PAYLOADS.c.sha256.in_(digests)))
            return {digest: bytes(content) for digest, content in rows}


def payload_storage(engine: Engine) -> ExternalStorage:
    """The external storage of every client and worker on `engine`'s records database."""
    return ExternalStorage(drivers=[RecordsPayloadDriver(engine)], payload_size_threshold=THRESHOLD)


def _payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload in `message`, at any depth (fields, repeated fields, map values)."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        values = value.values() if field.message_type.GetOptions().map_entry else (
            value if field.is_repeated else [value])
        for v in values:
            if isinstance(v, Payload):
                yield v
            elif isinstance(v, Message):
                yield from _payloads_in(v)


async def resolve_references(storage: ExternalStorage | None, message: Message) -> int:
    """Replace, in place, every external-storage reference in `message` (a history, an event) with the payload it
    refers to, as the worker sees it; how many there were. Without `storage`, references stay as they are."""
    if storage is None or REFERENCE_TYPE not in message.SerializeToString():  # the common case, 7 times faster to tell
        return 0
    references = [p for p in _payloads_in(message) if p.metadata.get("messageType") == REFERENCE_TYPE]
    drivers = {d.name(): d for d in storage.drivers}
    for p in references:
        ref = json_format.Parse(p.data, ExternalStorageReference())
        [stored] = await drivers[ref.driver_name].retrieve(StorageDriverRetrieveContext(),
                                                            [StorageDriverClaim(dict(ref.claim_data))])
        p.CopyFrom(stored)
    return len(references)


def store_instants(engine: Engine, before: datetime) -> list[datetime]:
    """The distinct instants of the payloads last stored before `before`, earliest first."""
    with engine.connect() as c:
        return list(c.execute(select(PAYLOADS.c.stored_at).where(PAYLOADS.c.stored_at < before).distinct()
                              .order_by(PAYLOADS.c.stored_at)).scalars())


def payloads_through(engine: Engine, through: datetime) -> tuple[int, int]:
    """How many payloads were last stored at or before `through`, and their bytes."""
    with engine.connect() as c:
        count, size = c.execute(select(func.count(), func.coalesce(func.sum(PAYLOADS.c.size), 0))
                                .where(PAYLOADS.c.stored_at <= through)).one()
        return int(count), int(size)


def prune(engine: Engine, through: datetime) -> int:
    """Delete the payloads last stored at or before `through` (client.payload_retention decides the instant)."""
    with engine.begin() as c:
        return int(c.execute(delete(PAYLOADS).where(PAYLOADS.c.stored_at <= through)).rowcount)
