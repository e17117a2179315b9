"""What checking the rules over a body's whole timeline costs a command (ADR 0016).

    .venv/bin/python bench/rules.py [--members 300] [--years 5] [--samples 15]
                                    [--store sqlite|postgres|both]
    .venv/bin/python bench/rules.py --quick        # a few seconds: shows it runs to the end

Builds one industry body with MEMBERS members over YEARS years of history — admissions
spread over the years, exits and re-joins, a lead enterprise that changes every year,
a council of 30 seats with yearly changes, four meetings a year with resolutions, and
agreements with entries — then times three commands whose rules look at that
timeline: an admission (the body's periods), an exit (the body, its council and every
agreement) and a seat assignment (the body and its council). Each is timed with the
check and, as the baseline, the same command with the check switched off, samples
alternating; it prints the medians and check/baseline. Then the same number of checked
commands in a row (as a ledger runs them: each finds the breaches before it known from
the command before, ``application.timelines``), against the same baseline. ``--quick``
(the test suite runs it): 60 members over two years, two samples, both stores unless
``--store`` says otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stores import throwaway_url
from bootstrap import Ledger
from domain.timeline import Timeline, breaches
from domain.values import credit_code_check_character

P = "secretary:bench"
TYPES = [
    ("enterprise", None),
    ("university", None),
    ("vocational_school", "higher"),
    ("research_institute", None),
    ("industry_organization", None),
]


def code(serial: int) -> str:
    body = f"91320506{serial:09d}"
    return body + credit_code_check_character(body)


def history(ledger: Ledger, members: int, years: int) -> tuple[str, list[str]]:
    """The body and the members free to exit (no seat, no agreement)."""
    start = date(2020, 1, 1)
    span = 365 * years
    for i in range(members + 60):
        unit_type, level = TYPES[i % len(TYPES)]
        ledger.register_unit(
            code=code(i),
            name=f"单位{i:04d}",
            unit_type=unit_type,
            level=level,
            division="320506",
            principal=P,
        )
    body = ledger.found_community(
        name="基准行业产教融合共同体",
        kind="industry",
        industry="基准",
        division="320500",
        founded_on=start,
        principal=P,
    ).id
    seated = list(range(30))
    for i in range(members):
        on = start if i in seated else start + timedelta(days=i * span // (members * 2))
        ledger.admit_member(body, code(i), role="participant", effective_on=on, principal=P)
    for i in seated:
        ledger.assign_seat(
            body,
            code(i),
            representative=f"代表{i}",
            office="chair" if i == 0 else "director",
            effective_on=start + timedelta(days=30),
            principal=P,
        )
    leads = [
        i for i in seated if TYPES[i % len(TYPES)][0] == "enterprise"
    ]  # members from the start
    for year in range(years):
        first = date(2020 + year, 1, 2)
        if year:
            ledger.change_member_role(
                body, code(leads[year - 1]), role="participant", effective_on=first, principal=P
            )
        ledger.change_member_role(
            body, code(leads[year]), role="lead", effective_on=first, principal=P
        )
        for q in range(4):
            held_on = date(2020 + year, 3 * q + 2, 10)
            number = ledger.record_meeting(
                body, held_on=held_on, present=[code(i) for i in seated], principal=P
            )
            adopted = ledger.record_resolution(
                body,
                meeting=number,
                matter="agreement",
                title=f"议题{year}-{q}",
                votes_for=30,
                votes_against=0,
                abstentions=0,
                principal=P,
            ).number
            if q == 0:
                parties = [seated[(year * 3 + k) % 30] for k in range(3)]
                agreement = ledger.draft_agreement(
                    body,
                    title=f"协议{year}",
                    drafted_on=held_on,
                    principal=P,
                    parties=[
                        {"unit_id": code(u), "cost_share_bp": s, "benefit_share_bp": s}
                        for u, s in zip(parties, (3334, 3333, 3333), strict=False)
                    ],
                ).id
                ledger.approve_agreement(agreement, resolution=adopted, principal=P)
                for e in range(40):
                    on = held_on + timedelta(days=e * 7)
                    ledger.record_contribution(
                        agreement,
                        code(parties[e % 3]),
                        kind="funds",
                        amount="100",
                        contributed_on=on,
                        description="投入",
                        principal=P,
                    )
    # exits and re-joins of members that hold nothing else
    free = list(range(30, members))
    for n, i in enumerate(free[: members // 5]):
        on = start + timedelta(days=i * span // (members * 2) + 180 + n * 3)
        if on < start + timedelta(days=span):
            ledger.exit_member(body, code(i), reason="withdrawal", effective_on=on, principal=P)
            if n % 2:
                ledger.admit_member(
                    body,
                    code(i),
                    role="participant",
                    effective_on=on + timedelta(days=60),
                    principal=P,
                )
    ledger_body = ledger.community(body)
    exiting = [
        code(i) for i in free[members // 5 :] if ledger_body.open_period(ledger.unit(code(i)).id)
    ]
    return str(body), exiting


@contextmanager
def rules_off(ledger: Ledger, off: bool) -> Iterator[None]:
    if not off:
        yield
        return
    # As before the check: no timeline walked, and an exit reads no agreements (it
    # still reads the council, whose seats it vacates).
    ledger.rules_kept = lambda *a, **k: nullcontext()  # type: ignore[method-assign]
    ledger.timeline = lambda body: Timeline(body, ledger.council_if_any(body))  # type: ignore[method-assign]
    try:
        yield
    finally:
        del ledger.rules_kept, ledger.timeline


def timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def bench_store(store: str, args: argparse.Namespace) -> None:
    with throwaway_url(store, "bench_rules") as url:
        ledger = Ledger(url)
        try:
            began = time.perf_counter()
            body, exiting = history(ledger, args.members, args.years)
            events = ledger.recorder.max_notification_id()
            print(
                f"{store}: {args.members} members, {args.years} years, {events} events "
                f"recorded in {time.perf_counter() - began:.1f} s"
            )
            timeline = ledger.timeline(ledger.community(body))
            walk = [timed(lambda: breaches(timeline, str)) for _ in range(5)]
            print(
                f"  one walk over the timeline (body, council, {len(timeline.agreements)} "
                f"agreements): {statistics.median(walk):.2f} ms"
            )
            newcomers = iter(code(i) for i in range(args.members, args.members + 60))
            half = len(exiting) // 2
            leavers, seats = iter(exiting[:half]), iter(exiting[half:])
            today = date.today().isoformat()
            commands = {
                "admit": lambda: ledger.admit_member(
                    body, next(newcomers), role="participant", effective_on=today, principal=P
                ),
                "exit": lambda: ledger.exit_member(
                    body, next(leavers), reason="withdrawal", effective_on=today, principal=P
                ),
                "assign seat": lambda: ledger.assign_seat(
                    body,
                    next(seats),
                    representative="新代表",
                    office="director",
                    effective_on=today,
                    principal=P,
                ),
            }
            for name, command in commands.items():
                samples: dict[bool, list[float]] = {True: [], False: []}
                for _ in range(args.samples):
                    for checked in (False, True):
                        with rules_off(ledger, off=not checked):
                            samples[checked].append(timed(command))
                checked, baseline = (statistics.median(samples[k]) for k in (True, False))
                # Then checked commands one after another, as a ledger runs them: each
                # finds the breaches before it known from the one before (only the
                # walk after it decides), where above each followed an unchecked one.
                running = statistics.median(timed(command) for _ in range(args.samples))
                print(
                    f"  {name:12} with the check {checked:7.2f} ms   without {baseline:7.2f} ms"
                    f"   check/baseline {checked / baseline:.2f}   checked in a row "
                    f"{running:7.2f} ms ({running / baseline:.2f})"
                )
        finally:
            ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument(
        "--store", choices=["sqlite", "postgres", "both"], help="default: sqlite (--quick: both)"
    )
    parser.add_argument("--quick", action="store_true", help="a small run that shows it works")
    args = parser.parse_args()
    if args.quick:
        args.members, args.years, args.samples = 60, 2, 2
    store = args.store or ("both" if args.quick else "sqlite")
    for one in ["sqlite", "postgres"] if store == "both" else [store]:
        bench_store(one, args)


if __name__ == "__main__":
    main()
