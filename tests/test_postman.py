"""The postman on a real SMTP server (aiosmtpd in process): what arrives, retries, refusals, missing addresses."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from activities.notices import FAILED_KIND, Postman, SmsTransport, SmtpServer, SmtpTransport, message_id
from activities.records import RecordActivities, RecordInput
from models.call import load_call
from models.messages import NoticeDraft, TransitionRecord
from records.engine import make_engine
from records.registry_tables import PersonRow, UnitRow
from records.tables import CallRow, NoticeAttemptRow, NoticeRow
from tests.conftest import CALLS
from tests.smtp_sink import Sink, smtp_sink, text

CALL = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")
AT = datetime.fromisoformat("2025-03-06T10:00:00+08:00")
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'records.db'}")
    with Session(e) as s:
        s.add(CallRow(id=CALL.id, title=CALL.title, version=CALL.version(), definition_json=CALL.model_dump_json(),
                      timetable_json="{}", updated_at=AT))
        s.add(UnitRow(id="office", name=CALL.issuer, registered_on=date(1990, 1, 1), province="CN-SX",
                      kind="state_organ", email="jcyj@kjt.example.cn"))
        s.add(UnitRow(id="unit-1", name="山西示范大学", registered_on=date(1990, 1, 1), province="CN-SX",
                      kind="university", email="kyc@sxu.example.cn", mobile="13800000001"))
        for i in range(5):
            s.add(PersonRow(id=f"pi-{i}", id_type="other", name=f"王{i}", birth_date=date(1980, 1, 1),
                            email=f"pi{i}@sxu.example.cn"))
        s.add(PersonRow(id="pi-sms", id_type="other", name="李娜", birth_date=date(1980, 1, 1), mobile="13912345678"))
        s.commit()
    yield e
    e.dispose()


def postman(engine: Engine, sink: Sink, sms: SmsTransport | None = None) -> Postman:
    smtp = SmtpTransport(SmtpServer.from_url(sink.url()), "申报管理系统 <noreply@kjt.example.cn>", timeout_s=5)
    return Postman(engine, [smtp, sms or SmsTransport()], domain="kjt.example.cn", backoff=timedelta(milliseconds=20))


def submit(engine: Engine, p: Postman, pi: str, app: str = "a1") -> list[str]:
    """Record one submission through the record activity, which queues its notices for the postman."""
    t = TransitionRecord(seq=0, trigger="submit", source="draft", dest="awaiting_unit_review", actor_id=pi,
                         role="applicant", reason="", at=AT)
    data = {"trigger": "submit", "source": "draft", "dest": t.dest, "dest_label": "", "actor_id": pi,
            "role": "applicant", "reason": ""}
    notices = [NoticeDraft(f"application-{app}:0:{role}", CALL.id, app, f"{role}:{who}", "transition", data)
               for role, who in (("applicant", pi), ("unit_admin", "unit-1"))]
    recorded = RecordActivities(engine, p).record_transition(
        RecordInput(call_id=CALL.id, application_id=app, state=t.dest, transition=t, notices=notices))
    assert recorded.delivered == []  # queued: the postman delivers them after the transaction
    return recorded.notice_keys


def rows(engine: Engine) -> dict[str, NoticeRow]:
    with Session(engine) as s:
        return {n.key: n for n in s.exec(select(NoticeRow)).all()}


def attempts(engine: Engine) -> list[tuple[str, int, str | None]]:
    with Session(engine) as s:
        return [(a.notice_key, a.attempt, a.outcome) for a in s.exec(
            select(NoticeAttemptRow).order_by(col(NoticeAttemptRow.notice_key), col(NoticeAttemptRow.attempt))).all()]


async def test_each_notice_arrives_once_in_chinese_with_a_message_id_from_its_key(engine: Engine) -> None:
    with smtp_sink() as sink:
        p = postman(engine, sink)
        keys = [k for i in range(5) for k in submit(engine, p, f"pi-{i}", f"a{i}")]
        await p.drain(30)
        await p.round()  # nothing is left to send a second time
    assert sorted(sink.ids()) == sorted(message_id(k, "kjt.example.cn") for k in keys)
    first = next(m for m in sink.accepted if m["X-Grantflow-Notice"] == keys[0])
    assert first["To"] == "pi0@sxu.example.cn"
    assert (first["From"].addresses[0].display_name, first["From"].addresses[0].addr_spec) == (
        "申报管理系统", "noreply@kjt.example.cn")
    assert first.get_content_charset() == "utf-8"
    assert "申报项目a0：待申请单位审核" in str(first["Subject"])
    assert "项目申请人（pi-0）已提交申报书" in text(first)
    stored = rows(engine)
    assert {n.status for n in stored.values()} == {"sent"}
    assert all(n.delivered_at is not None and n.channel == "smtp" for n in stored.values())
    assert attempts(engine) == sorted((k, 1, "accepted") for k in keys)


async def test_messages_go_on_kept_connections_at_most_one_per_message_in_flight(engine: Engine) -> None:
    with smtp_sink() as sink:
        p = postman(engine, sink)
        keys = [k for i in range(5) for k in submit(engine, p, f"pi-{i}", f"a{i}")]
        await p.drain(30)
        more = [k for i in range(5) for k in submit(engine, p, f"pi-{i}", f"c{i}")]
        await p.drain(30)
    assert sorted(sink.ids()) == sorted(message_id(k, "kjt.example.cn") for k in keys + more)
    assert 1 <= len(sink.peers) <= 4  # the postman's concurrency; one connection per message would be 20


async def test_a_kept_connection_the_server_closed_is_replaced_without_deferring_the_notice(engine: Engine) -> None:
    with smtp_sink(idle_timeout_s=0.3) as sink:
        p = postman(engine, sink)
        keys = submit(engine, p, "pi-1", "a1")
        await p.drain(30)
        first = set(sink.peers)
        await asyncio.sleep(0.8)  # the server closes the idle connections the postman keeps
        later = submit(engine, p, "pi-2", "a2")
        await p.drain(30)
        await p.round()
    assert sorted(sink.ids()) == sorted(message_id(k, "kjt.example.cn") for k in keys + later)
    assert sink.peers - first  # the later notices came on new connections
    assert attempts(engine) == sorted((k, 1, "accepted") for k in keys + later)


async def test_the_postman_stopping_quits_its_kept_connections(engine: Engine) -> None:
    with smtp_sink() as sink:
        p = postman(engine, sink)
        async with p.running():
            submit(engine, p, "pi-1", "a1")
            p.wake()
            async with asyncio.timeout(30):
                while len(sink.accepted) < 2:
                    await asyncio.sleep(0.02)
        smtp = p.transports["smtp"]
        assert isinstance(smtp, SmtpTransport)
        assert smtp.kept() == 0


async def test_a_temporary_refusal_is_retried_and_every_attempt_recorded(engine: Engine) -> None:
    with smtp_sink(refuse=lambda m, before: "451 4.3.0 mailbox busy" if before < 2 else None) as sink:
        p = postman(engine, sink)
        keys = submit(engine, p, "pi-1")
        await p.drain(30)
    assert sorted(sink.ids()) == sorted(message_id(k, "kjt.example.cn") for k in keys)
    assert attempts(engine) == sorted((k, n, o) for k in keys for n, o in ((1, "deferred"), (2, "deferred"),
                                                                            (3, "accepted")))
    assert {n.status for n in rows(engine).values()} == {"sent"}


async def test_a_permanent_refusal_fails_the_notice_and_tells_the_calls_manager(engine: Engine) -> None:
    def refuse(m: object, before: int) -> str | None:
        return "550 5.1.1 no such mailbox" if "pi1@" in str(m["To"]) else None  # type: ignore[index]
    with smtp_sink(refuse=refuse) as sink:
        p = postman(engine, sink)
        keys = submit(engine, p, "pi-1")
        await p.drain(30)
    stored = rows(engine)
    failed = stored[keys[0]]
    assert (failed.status, failed.failure, failed.attempts) == ("failed", "550 5.1.1 no such mailbox", 1)
    told = stored[f"{keys[0]}:{FAILED_KIND}"]
    assert (told.recipient, told.status, told.address) == (f"manager:{CALL.id}", "sent", "jcyj@kjt.example.cn")
    assert [m["To"] for m in sink.accepted].count("jcyj@kjt.example.cn") == 1
    assert "550 5.1.1 no such mailbox" in text(next(m for m in sink.accepted if m["To"] == "jcyj@kjt.example.cn"))


async def test_a_recipient_without_an_address_is_recorded_undeliverable_and_one_with_a_mobile_gets_a_text(
        engine: Engine) -> None:
    sent: list[tuple[str, str]] = []

    class Recording:
        name = "recording"

        async def send(self, mobile: str, text: str, reference: str) -> str:
            sent.append((mobile, text))
            return f"r{len(sent)}"

    with smtp_sink() as sink:
        p = postman(engine, sink, SmsTransport(Recording()))
        nobody = submit(engine, p, "pi-unknown", "b1")
        texted = submit(engine, p, "pi-sms", "b2")
        await p.drain(30)
    stored = rows(engine)
    assert (stored[nobody[0]].status, stored[nobody[0]].failure) == (
        "undeliverable", "the registry has no email or mobile for applicant:pi-unknown")
    assert (stored[texted[0]].status, stored[texted[0]].channel) == ("sent", "sms")
    assert [m for m, _ in sent] == ["13912345678"] and HAN.search(sent[0][1])
    assert len(sink.accepted) == 2  # the unit administrator's two notices, by e-mail


@pytest.mark.parametrize("url", ["http://mail:25", "smtp://", "smtp://host:port"])
def test_a_bad_smtp_url_is_one_clear_line(url: str) -> None:
    with pytest.raises(ValueError, match="GRANTFLOW_SMTP_URL") as bad:
        SmtpServer.from_url(url)
    assert "\n" not in str(bad.value)


def test_smtp_urls_choose_tls() -> None:
    assert SmtpServer.from_url("smtps://u:p%40ss@mail.example.cn") == SmtpServer("mail.example.cn", 465, True, False,
                                                                               "u", "p@ss")
    assert SmtpServer.from_url("smtp+starttls://mail.example.cn").starttls
    assert SmtpServer.from_url("smtp://127.0.0.1:8025") == SmtpServer("127.0.0.1", 8025)
