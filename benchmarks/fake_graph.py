"""The Graph API's messages endpoint for the send benchmark, in a process of its own (in a thread
of the sending process it would share the interpreter's lock with the very engine measured):
every ``POST /{version}/{node}/messages`` is answered like Meta's after ``--delay`` seconds;
``GET /count`` says how many were answered.

    python -m benchmarks.fake_graph --port 8098 --delay 0.05
"""

import argparse
import asyncio
import itertools

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


def build(delay: float) -> Starlette:
    ids = itertools.count(1)
    answered = [0]

    async def messages(request: Request) -> JSONResponse:
        await request.body()
        await asyncio.sleep(delay)
        answered[0] += 1
        return JSONResponse({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.BENCH{next(ids)}"}]})

    async def health(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def count(_request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(answered[0]))

    return Starlette(routes=[Route("/{version}/{node}/messages", messages, methods=["POST"]),
                             Route("/health", health), Route("/count", count)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    uvicorn.run(build(args.delay), host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                backlog=4096)


if __name__ == "__main__":
    main()
