"""The baseline: the same framework, server and database driver, doing only one INSERT per request.

Atiende's inbound throughput is reported as a ratio of this, measured in the same run on the same
machine, so the number says what Atiende's own work costs, not how fast this machine is. It runs
with exactly the uvicorn settings of ``atiende serve`` (one worker, uvloop + httptools, log level
info so the access log is on, proxy headers) and the same connection pool size.

    python -m benchmarks.bare_app --port 8001   # with BENCH_DATABASE_URL set
"""

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, text
from sqlalchemy.ext.asyncio import create_async_engine

metadata = MetaData()
rows = Table("bench_rows", metadata, Column("id", Integer, primary_key=True),
             Column("external_id", String(120)), Column("body", Text))
engine = create_async_engine(os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/test"),
                             pool_size=20, max_overflow=20)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/bare")
async def bare(request: Request) -> dict[str, str]:
    payload = await request.json()
    async with engine.begin() as conn:
        await conn.execute(rows.insert().values(external_id=payload.get("external_id"), body=payload.get("text")))
    return {"status": "stored"}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=True)


if __name__ == "__main__":
    main()
