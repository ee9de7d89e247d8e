"""Simulated browser pages watching a running studio server (run by ``common.watching_pages``
in a process of its own).

Each page does over HTTP what the studio's page does in a browser, without drawing: it joins
every ``follow_*`` stream event under one session (``POST /gradio_api/queue/join``, as the
page load does), holds Gradio's heartbeat (``GET /gradio_api/heartbeat/<session>``), reads the
session's server-sent events (``GET /gradio_api/queue/data``), and when an update says a State
changed (``changed_state_ids``), it sends that State's ``change`` events with null inputs (a
State's value is the server's; a dropdown's is sent as none selected), as the page's
JavaScript does (the job selector's refill, the Models tab's refresh after a finished job).
It sends every change, where the page runs an ``always_last`` one again only once.

    python bench/sse_pages.py '<plan as JSON>'

The plan: ``{"url": base URL, "pages": N, "streams": [fn_index, ...], "changes": {state id:
[[fn_index, number of inputs], ...]}, "stamps": {"fn": fn_index, "outputs": [position, ...]}
or null}``. Prints ``READY`` once
every stream of every page has sent its first update; after that, with ``stamps``, one line
``<time.perf_counter()>`` per later update of that stream (``CLOCK_MONOTONIC``, comparable with the
server process's). Runs until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import httpx

#: In an update's JSON when it changed no State (Gradio writes it with orjson, no spaces);
#: most updates are such, and parsing them all is most of this process's CPU.
_QUIET = '"changed_state_ids":[]'


async def _join(client: httpx.AsyncClient, plan: dict, session: str, fn_index: int,
                inputs: int = 0, trigger_id: int | None = None) -> str:
    """Queue event ``fn_index`` for ``session`` with ``inputs`` null inputs (a State's value
    is the server's own); returns its event id."""
    body = {"data": [None] * inputs, "fn_index": fn_index, "session_hash": session,
            "trigger_id": trigger_id, "event_data": None}
    reply = await client.post(f"{plan['url']}/gradio_api/queue/join", json=body)
    reply.raise_for_status()
    return reply.json()["event_id"]


async def _page(client: httpx.AsyncClient, plan: dict, ready: asyncio.Semaphore,
                drawn: asyncio.Event) -> None:
    """One page: join its streams, then follow the session's events until cancelled."""
    session = uuid.uuid4().hex[:11]
    events = {await _join(client, plan, session, fn_index): fn_index  # event id -> fn
              for fn_index in plan["streams"]}
    first = set(plan["streams"])
    heartbeat = asyncio.create_task(_heartbeat(client, plan, session))
    try:
        await _follow(client, plan, session, events, first, ready, drawn)
    finally:
        heartbeat.cancel()


async def _heartbeat(client: httpx.AsyncClient, plan: dict, session: str) -> None:
    """Hold the session's heartbeat, as a page with States does; its end tells Gradio the
    page closed."""
    async with client.stream("GET", f"{plan['url']}/gradio_api/heartbeat/{session}") as beat:
        async for _ in beat.aiter_bytes():
            pass


async def _follow(client: httpx.AsyncClient, plan: dict, session: str, events: dict[str, int],
                  first: set[int], ready: asyncio.Semaphore, drawn: asyncio.Event) -> None:
    """Read the session's server-sent events until cancelled (see the module docstring)."""
    async with client.stream("GET", f"{plan['url']}/gradio_api/queue/data",
                             params={"session_hash": session}) as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("data:") or (_QUIET in line and not first
                                                 and plan["stamps"] is None):
                continue  # drawn, no State changed, no time to note: nothing to read
            message = json.loads(line[5:])
            if message.get("msg") != "process_generating":
                continue
            fn_index = events.get(message["event_id"])
            if _stamped(plan["stamps"], fn_index, message) and drawn.is_set():
                print(time.perf_counter(), flush=True)
            if fn_index in first:
                first.discard(fn_index)
                if not first:
                    ready.release()
            for state_id in message["output"].get("changed_state_ids") or []:
                for change_fn, inputs in plan["changes"].get(str(state_id), []):
                    await _join(client, plan, session, change_fn, inputs, state_id)


def _stamped(stamps: dict | None, fn_index: int, message: dict) -> bool:
    """Whether ``message`` (a later update of event ``fn_index``, its values as Gradio's
    diffs: ``[]`` for an unchanged one) changes one of the stamped outputs."""
    data = message["output"]["data"]
    return (stamps is not None and fn_index == stamps["fn"]
            and any(data[i] for i in stamps["outputs"]))


async def main(plan: dict) -> None:
    ready, drawn = asyncio.Semaphore(0), asyncio.Event()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(timeout=None, limits=limits) as client:
        pages = [asyncio.create_task(_page(client, plan, ready, drawn))
                 for _ in range(plan["pages"])]
        for _ in pages:
            waiting = asyncio.create_task(ready.acquire())
            done, _pending = await asyncio.wait([waiting, *pages],
                                                return_when=asyncio.FIRST_COMPLETED)
            for page in pages:
                if page in done:  # a page ended before it drew: its error ends the run
                    page.result()
                    raise SystemExit("a page's stream ended before its first update")
        print("READY", flush=True)
        drawn.set()
        await asyncio.gather(*pages)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
