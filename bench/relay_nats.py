"""How fast ``chanjiao relay nats`` moves the log into NATS JetStream, and how long an
event takes from its recording to 100 consumers.

    .venv/bin/python bench/relay_nats.py [--store postgres|sqlite|both] [--events N]
                     [--consumers C] [--rate R] [--seconds S]
    .venv/bin/python bench/relay_nats.py --quick     # seconds: shows it runs to the end

THROUGHPUT: N events (default 10,000: units registered through the ledger) already in
the log; the relay (``relay.nats.NatsRelay``, in this process, batches of 1,000) publishes
them into a fresh stream, timed from its start until the stream holds the last one. The
baseline publishes the same messages, already encoded, with the same pipelining
(``publish_async``, a batch of 1,000 in flight, its acknowledgements awaited together),
into another fresh stream: what NATS and nats-py can take on this machine. The ratio is
relay / baseline; the goal (issue 19) is >= 5,000 events/s for the relay.

LATENCY: the relay as a process of its own (``chanjiao relay nats``) and C consumers
(default 100; ordered push consumers of the stream, all in this process) while another
process records R events a second (default 20) for S seconds (default 10). An event's
latency is the time a consumer received it minus the time it was recorded (the
CloudEvent's ``time``, set just before the commit): commit, NOTIFY or poll, the relay's
read and publish, JetStream, delivery. p50, p99 and p99.9 over every (event, consumer);
the goal is p99 < 100 ms.

NATS is ``nats://127.0.0.1:4222`` unless ``CHANJIAO_BENCH_NATS_URL`` says otherwise; the
streams are made for the run and deleted after it. PostgreSQL as the other benchmarks
(``bench/stores.py``). ``--quick`` (the test suite runs it): 300 events, 5 consumers,
2 seconds; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
from nats.js.api import DeliverPolicy, StorageType, StreamConfig

# Run as a script, this file's own directory comes first on sys.path, and bench/api.py
# would hide the ``api`` package: import from the project root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from adapters.relays import RelayTable  # noqa: E402
from api.events import Encoder  # noqa: E402
from bench.stores import throwaway_url  # noqa: E402
from bootstrap import Ledger  # noqa: E402
from domain.values import credit_code_check_character  # noqa: E402
from projections.read_models import open_store  # noqa: E402
from relay.nats import NatsRelay, Target  # noqa: E402

NATS_URL = os.environ.get("CHANJIAO_BENCH_NATS_URL", "nats://127.0.0.1:4222")
RATE_GOAL = 5_000  # events/s from the log into JetStream
P99_GOAL_MS = 100.0


def credit_code(serial: int) -> str:
    body = f"91320506{serial:09d}"
    return body + credit_code_check_character(body)


def register(url: str, first: int, count: int, pace: float = 0.0) -> None:
    """``count`` units, one command each; ``pace`` seconds apart when given."""
    ledger = Ledger(url)
    try:
        start = time.monotonic()
        for i in range(count):
            if pace:
                time.sleep(max(0.0, start + i * pace - time.monotonic()))
            ledger.register_unit(
                code=credit_code(first + i),
                name=f"基准单位{first + i}",
                unit_type="enterprise",
                division="320506",
                principal="bench",
            )
    finally:
        ledger.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Streams:
    """Fresh streams on the NATS server, deleted afterwards."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def new(self) -> Target:
        tag = uuid.uuid4().hex[:8]
        self.made.append(f"BENCH_{tag.upper()}")
        return Target(url=NATS_URL, stream=self.made[-1], prefix=f"bench{tag}")

    async def delete(self) -> None:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        for name in self.made:
            with contextlib.suppress(Exception):
                await js.delete_stream(name)
        await nc.close()


async def last_seq(js: Any, stream: str) -> int:
    try:
        return (await js.stream_info(stream)).state.last_seq
    except nats.js.errors.NotFoundError:
        return 0


# --- throughput ------------------------------------------------------------------------


async def relay_rate(url: str, target: Target, events: int) -> float:
    ledger = Ledger(url)
    try:
        relay = NatsRelay(Encoder(ledger), RelayTable(open_store(ledger)), target, poll=0.05)
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        start = time.perf_counter()
        task = asyncio.create_task(relay.run())
        while await last_seq(js, target.stream) < events:
            await asyncio.sleep(0.005)
        seconds = time.perf_counter() - start
        relay.stop()
        await task
        await nc.close()
        return events / seconds
    finally:
        ledger.close()


async def baseline_rate(url: str, target: Target, events: int) -> float:
    ledger = Ledger(url)
    try:
        encoder = Encoder(ledger)
        items: list[Any] = []
        while len(items) < events:
            page, _ = encoder.page(items[-1].position if items else 0, 1000, None, None)
            items += page
    finally:
        ledger.close()
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(name=target.stream, subjects=[target.subjects], storage=StorageType.FILE)
    )
    start = time.perf_counter()
    for first in range(0, len(items), 1000):
        futures = [
            await js.publish_async(
                target.subject(i.type),
                i.json,
                headers={
                    "Nats-Msg-Id": str(i.position),
                    "content-type": "application/cloudevents+json",
                },
            )
            for i in items[first : first + 1000]
        ]
        await asyncio.gather(*futures)
    seconds = time.perf_counter() - start
    await nc.close()
    return events / seconds


# --- latency -----------------------------------------------------------------------------


async def latencies(
    url: str, target: Target, backlog: int, consumers: int, rate: float, seconds: float
) -> list[float]:
    handle, name = tempfile.mkstemp(prefix="chanjiao-bench-relay-", suffix=".log")
    log = Path(name)
    with os.fdopen(handle, "wb") as out:
        relay = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "relay",
                "nats",
                "--db",
                url,
                "--url",
                NATS_URL,
                "--stream",
                target.stream,
                "--subject-prefix",
                target.prefix,
                "--poll",
                "0.05",
            ],
            cwd=_HERE.parent,
            stdout=out,
            stderr=out,
        )
    try:
        nc = await nats.connect(NATS_URL, pending_size=64 * 1024 * 1024)
        js = nc.jetstream()
        while await last_seq(js, target.stream) < backlog:  # the relay has caught up
            await asyncio.sleep(0.05)
        samples: list[float] = []

        async def received(msg: Any) -> None:
            now = time.time()
            sent = datetime.fromisoformat(
                msg.data.split(b'"time":"', 1)[1].split(b'"', 1)[0].decode()
            )
            samples.append((now - sent.timestamp()) * 1000)

        subs = [
            await js.subscribe(
                target.subjects,
                cb=received,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.NEW,
            )
            for _ in range(consumers)
        ]
        count = int(rate * seconds)
        # Another process records, as a secretary's command or a server would.
        writer = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from bench.relay_nats import register; import sys; "
                "register(sys.argv[1], 900_000, int(sys.argv[2]), float(sys.argv[3]))",
                url,
                str(count),
                str(1 / rate),
            ],
            cwd=_HERE.parent,
        )
        assert await asyncio.to_thread(writer.wait) == 0, "the writer failed"
        deadline = time.monotonic() + 10
        while len(samples) < count * consumers and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for s in subs:
            await s.unsubscribe()
        await nc.close()
        if len(samples) < count * consumers:
            raise SystemExit(f"only {len(samples)} of {count * consumers} deliveries arrived")
        return samples
    finally:
        relay.terminate()
        relay.wait(20)
        log.unlink(missing_ok=True)


# --- the run -----------------------------------------------------------------------------


async def bench_store(store: str, args: argparse.Namespace) -> tuple[float, float, float]:
    streams = Streams()
    try:
        with throwaway_url(store, "bench_relay") as url:
            register(url, 1, args.events)
            relays, baselines = [], []
            for _ in range(args.repeat):  # alternating, each into a fresh stream
                relays.append(await relay_rate(url, streams.new(), args.events))
                baselines.append(await baseline_rate(url, streams.new(), args.events))
            relay, baseline = statistics.median(relays), statistics.median(baselines)
            print(
                f"{store}: {args.events:,} events from the log into JetStream, median of "
                f"{args.repeat}: relay {relay:,.0f} events/s, baseline {baseline:,.0f} msg/s, "
                f"ratio {relay / baseline:.2f}",
                flush=True,
            )
            samples = await latencies(
                url, streams.new(), args.events, args.consumers, args.rate, args.seconds
            )
            p50, p99, p999 = (percentile(samples, q) for q in (0.5, 0.99, 0.999))
            print(
                f"{store}: recorded-to-consumer, {args.consumers} consumers, "
                f"{args.rate:g} events/s for {args.seconds:g} s ({len(samples):,} deliveries): "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, p99.9 {p999:.1f} ms, "
                f"mean {statistics.fmean(samples):.1f} ms",
                flush=True,
            )
            return relay, baseline, p99
    finally:
        await streams.delete()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", choices=("postgres", "sqlite", "both"), default="both")
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--consumers", type=int, default=100)
    p.add_argument("--rate", type=float, default=20.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--repeat", type=int, default=3, help="throughput runs of each (median)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: shows it runs to the end")
    args = p.parse_args()
    if args.quick:
        args.events, args.consumers, args.rate, args.seconds, args.repeat = 300, 5, 20.0, 2.0, 1
    stores = ["postgres", "sqlite"] if args.store == "both" else [args.store]
    results = {store: asyncio.run(bench_store(store, args)) for store in stores}
    print()
    for store, (relay, baseline, p99) in results.items():
        rate_verdict = "meets" if relay >= RATE_GOAL else "below"
        p99_verdict = "meets" if p99 < P99_GOAL_MS else "above"
        print(
            f"  {store:8} relay {relay:,.0f} events/s ({rate_verdict} the {RATE_GOAL:,} goal), "
            f"{relay / baseline:.2f} of the baseline; consumer p99 {p99:.1f} ms "
            f"({p99_verdict} the {P99_GOAL_MS:g} ms goal)"
        )
    print("relay/baseline: the relay's share of what NATS takes from a bare publisher")


if __name__ == "__main__":
    main()
