"""Durable jobs: due work runs once, survives a restart, retries with backoff, can be moved or cancelled."""

from datetime import timedelta

from sqlalchemy import select

from atiende.clock import FakeClock
from atiende.db import Database
from atiende.jobs import JobContext, JobStatus, PermanentJobError, ScheduledJob, Worker, cancel, enqueue, job

CALLS: list[tuple[str, int]] = []


@job
async def remember(ctx: JobContext, *, label: str, n: int) -> None:
    CALLS.append((label, n))


@job
async def flaky(ctx: JobContext, *, fail_times: int) -> None:
    CALLS.append(("flaky", fail_times))
    if sum(1 for c in CALLS if c[0] == "flaky") <= fail_times:
        raise RuntimeError("provider down")


@job
async def refused(ctx: JobContext) -> None:
    raise PermanentJobError("template not approved")


async def _jobs(database: Database) -> list[ScheduledJob]:
    async with database.session() as session:
        return list((await session.scalars(select(ScheduledJob))).all())


async def test_a_job_runs_when_due_and_only_once(database: Database, clock: FakeClock, worker: Worker) -> None:
    CALLS.clear()
    async with database.session() as session:
        await enqueue(session, remember, due_at=clock.now() + timedelta(minutes=30), label="close", n=1)
    assert await worker.run_due() == 0
    clock.advance(minutes=30)
    assert await worker.run_due() == 1
    assert await worker.run_due() == 0
    assert CALLS == [("close", 1)]
    assert await _jobs(database) == []


async def test_a_new_worker_after_a_restart_runs_what_the_old_one_left(app, database: Database,
                                                                      clock: FakeClock) -> None:
    CALLS.clear()
    async with database.session() as session:
        await enqueue(session, remember, due_at=clock.now() + timedelta(minutes=5), label="after-restart", n=2)
    fresh = Worker(JobContext(database=Database(database.url), clock=clock, bus=app.state.bus,
                              settings=app.state.settings, http=app.state.http))
    clock.advance(minutes=6)
    assert await fresh.run_due() == 1
    await fresh.context.database.dispose()
    assert CALLS == [("after-restart", 2)]


async def test_enqueueing_the_same_key_moves_the_timer_and_cancel_drops_it(database: Database, clock: FakeClock,
                                                                          worker: Worker) -> None:
    CALLS.clear()
    async with database.session() as session:
        await enqueue(session, remember, key="inactivity:7", due_at=clock.now() + timedelta(minutes=10),
                      label="inactivity", n=1)
    async with database.session() as session:
        await enqueue(session, remember, key="inactivity:7", due_at=clock.now() + timedelta(minutes=20),
                      label="inactivity", n=2)
    clock.advance(minutes=15)
    assert await worker.run_due() == 0
    clock.advance(minutes=10)
    assert await worker.run_due() == 1
    assert CALLS == [("inactivity", 2)]
    async with database.session() as session:
        await enqueue(session, remember, key="inactivity:8", due_at=clock.now(), label="x", n=0)
        assert await cancel(session, "inactivity:8")
    assert await worker.run_due() == 0


async def test_failures_retry_with_backoff_then_succeed(database: Database, clock: FakeClock,
                                                        worker: Worker) -> None:
    CALLS.clear()
    async with database.session() as session:
        await enqueue(session, flaky, due_at=clock.now(), fail_times=2)
    assert await worker.run_due() == 1
    [row] = await _jobs(database)
    assert row.status == JobStatus.pending and row.attempts == 1 and "provider down" in row.last_error
    assert row.due_at > clock.now()
    assert await worker.run_due() == 0  # not before the backoff
    clock.advance(seconds=7)
    assert await worker.run_due() == 1
    clock.advance(seconds=15)
    assert await worker.run_due() == 1
    assert await _jobs(database) == []
    assert len([c for c in CALLS if c[0] == "flaky"]) == 3


async def test_permanent_errors_fail_without_retry(database: Database, clock: FakeClock, worker: Worker) -> None:
    async with database.session() as session:
        await enqueue(session, refused, due_at=clock.now())
    assert await worker.run_due() == 1
    [row] = await _jobs(database)
    assert row.status == JobStatus.failed and row.last_error == "template not approved"
    clock.advance(hours=5)
    assert await worker.run_due() == 0
