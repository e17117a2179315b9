"""How long the console takes to draw a body's page, against the API's JSON answer for the
same members.

    .venv/bin/python bench/console.py [--store postgres|sqlite|both] [--members N] [--samples K]
    .venv/bin/python bench/console.py --quick     # seconds: shows it runs to the end

A body of N members (default 300, set up as ``bench/api.py`` does: registered and admitted
through the ledger), a secretary signed in. Then K requests of each, alternating (default
200): the console's ``GET /bodies/{id}`` (members, leads, the province chart and the
charter, rendered by Jinja2) and the API's ``GET /communities/{id}/members`` (the member
list as JSON, the baseline), both in process through Starlette's test client, so the time
is the server's. p50 and p99 of each, and page / API at the median; the goal (issue 18) is
a page in under 150 ms. ``--quick``: 20 members, 10 samples; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

# Run as a script, this file's own directory comes first on sys.path, and bench/api.py
# would hide the ``api`` package: import from the project root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from api.app import create_app  # noqa: E402
from bench.api import set_up  # noqa: E402
from bench.stores import throwaway_url  # noqa: E402
from bootstrap import Ledger  # noqa: E402
from console.pages import pages  # noqa: E402

GOAL_MS = 150.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_store(store: str, args: argparse.Namespace) -> float:
    with throwaway_url(store, "bench_console") as url, tempfile.TemporaryDirectory() as keys:
        ledger = Ledger(url)
        try:
            body = set_up(ledger, args.members).community
            app = create_app(ledger, pages=functools.partial(pages, key_file=Path(keys, "k")))
            token = app.state.service.tokens.issue(
                role="secretary", name="bench", communities=[body], issued_by="bench"
            ).token
            with TestClient(app) as client:
                signed = client.post("/signin", data={"token": token}, follow_redirects=False)
                assert signed.status_code == 303, signed.text
                page_url, api_url = f"/bodies/{body}", f"/communities/{body}/members"
                headers = {"Authorization": f"Bearer {token}"}
                page_ms, api_ms = [], []
                for i in range(args.samples + 5):  # the first five warm up
                    start = time.perf_counter()
                    page = client.get(page_url)
                    took = (time.perf_counter() - start) * 1000
                    assert page.status_code == 200 and "成员省份分布" in page.text
                    start = time.perf_counter()
                    answer = client.get(api_url, headers=headers)
                    api_took = (time.perf_counter() - start) * 1000
                    assert len(answer.json()["members"]) == args.members
                    if i >= 5:
                        page_ms.append(took)
                        api_ms.append(api_took)
        finally:
            ledger.close()
    page_p50, api_p50 = statistics.median(page_ms), statistics.median(api_ms)
    print(
        f"{store}: body page of {args.members} members, {args.samples} requests: "
        f"p50 {page_p50:.1f} ms, p99 {percentile(page_ms, 0.99):.1f} ms; API member list "
        f"p50 {api_p50:.1f} ms, p99 {percentile(api_ms, 0.99):.1f} ms; page/API "
        f"{page_p50 / api_p50:.2f}",
        flush=True,
    )
    return page_p50


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", choices=("postgres", "sqlite", "both"), default="both")
    p.add_argument("--members", type=int, default=300)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--quick", action="store_true", help="tiny sizes: shows it runs to the end")
    args = p.parse_args()
    if args.quick:
        args.members, args.samples = 20, 10
    stores = ["postgres", "sqlite"] if args.store == "both" else [args.store]
    results = {store: bench_store(store, args) for store in stores}
    print()
    for store, p50 in results.items():
        verdict = "meets" if p50 < GOAL_MS else "misses"
        print(f"  {store:8} body page p50 {p50:.1f} ms ({verdict} the {GOAL_MS:g} ms goal)")
    print("page/API: the console's page over the API's JSON for the same members")


if __name__ == "__main__":
    main()
