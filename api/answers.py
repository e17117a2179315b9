"""What a write command answers: the read side's view of what it recorded, the same
over HTTP and on the command line (``cli.commands`` uses this table too). A route or a
subcommand whose answer differs names its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application import messages as m
from bootstrap import Ledger
from projections import membership, membership_model
from projections.machinery import Store

Answer = Callable[[Ledger, Store, Any, Any], Any]
"""``(ledger, read models, the command, what its ledger method returned) → the answer``"""


def unit(ledger: Ledger, store: Store, cmd: Any, record: Any) -> membership.UnitView:
    periods = membership_model.unit_memberships(store, record.id)
    return membership.unit_view(ledger, record.id, periods)


ANSWERS: dict[type[m.Command], Answer] = {
    m.RegisterUnit: unit,
    m.RenameUnit: unit,
    m.RelocateUnit: unit,
    m.DeregisterUnit: unit,
}
