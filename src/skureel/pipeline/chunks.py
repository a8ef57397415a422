"""Fan-out across workers as plain functions: split the changed SKUs into chunks, and the report each chunk's
child run leaves behind for the parent (under the output's .skureel/chunks/, so it survives the child's process)."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from skureel.ledger import Ledger
from skureel.naming import key
from skureel.pipeline.hosted import Budget
from skureel.pipeline.refresh import RunPlan
from skureel.pipeline.work import SkuOutcome
from skureel.publish.storage import Target


class ChunkReport(BaseModel):
    name: str
    skus: list[str]
    composed: int = 0
    reused: int = 0
    failures: list[dict[str, str]] = Field(default_factory=list)
    left_by_budget: list[str] = Field(default_factory=list)
    spend_usd: float = 0.0
    notes: list[str] = Field(default_factory=list)


def split(skus: list[str], size: int) -> list[list[str]]:
    """Chunks of `size` SKUs (Settings.chunk_skus): minutes of work each, since a flow run costs a worker slot ~7 s."""
    size = max(1, size)
    return [skus[i:i + size] for i in range(0, len(skus), size)]


def chunk_name(batch: str, index: int) -> str:
    return f"{batch}-{index}"


def batch_of(name: str) -> str:
    return name.rpartition("-")[0] or name


class SharedBudget(Budget):
    """A batch's --max-spend shared live by all its chunks: each paid submit first debits the batch's row in the
    shared ledger (Ledger.debit, atomic), so the chunks together never pass the cap whatever runs where.
    `spent` stays this chunk's own share, which its report carries to the parent.

    A reservation is given back when the vendor refuses the submit; one held by a chunk that died before it
    submitted stays debited (it cannot be told from a paid one), so a crash can only end a batch early, never
    let it overspend."""

    def __init__(self, ledger: Ledger, budget_id: str, cap_usd: float) -> None:
        super().__init__(cap_usd)
        self.ledger, self.budget_id, self.cap_usd = ledger, budget_id, cap_usd

    def reserve(self, usd: float) -> bool:
        if not self.ledger.debit(self.budget_id, usd, self.cap_usd):
            return False
        with self._lock:
            self.spent += usd
        return True


def budget_for(ledger: Ledger, cap_usd: float | None, chunk: str | None) -> Budget:
    """A chunk of a fan-out with a cap shares its batch's budget; anything else keeps a budget of its own."""
    if chunk is None or cap_usd is None:
        return Budget(cap_usd)
    return SharedBudget(ledger, f"batch:{batch_of(chunk)}", cap_usd)


def _rel(name: str) -> str:
    return f".skureel/chunks/{key(name, 'chunk')}.json"


def report_chunk(run: RunPlan, outcomes: list[SkuOutcome], failures: list[dict[str, str]], spend_usd: float,
                 left: list[str], name: str) -> ChunkReport:
    report = ChunkReport(
        name=name, skus=[w.product.sku for w in run.work] + run.unchanged,
        composed=sum(len(o.composed) for o in outcomes), reused=sum(len(o.reused) for o in outcomes),
        failures=[f for o in outcomes for f in o.failures] + failures, left_by_budget=left, spend_usd=spend_usd,
        notes=run.notes + [f"SKU {o.sku!r}: {n}" for o in outcomes for n in o.notes if not o.failures])
    Target(run.request.out, run.settings).put_bytes(report.model_dump_json().encode(), _rel(name))
    return report


def read_report(run: RunPlan, name: str) -> ChunkReport | None:
    target = Target(run.request.out, run.settings)
    if not target.exists(_rel(name)):
        return None
    return ChunkReport.model_validate(json.loads(target.read_bytes(_rel(name))))


class Merged(BaseModel):
    composed: int
    reused: int
    failures: list[dict[str, str]]
    left_by_budget: list[str]
    spend_usd: float
    notes: list[str]


def merged(reports: list[ChunkReport]) -> Merged:
    return Merged(composed=sum(r.composed for r in reports), reused=sum(r.reused for r in reports), failures=[f for r in reports for f in r.failures],
                  left_by_budget=sorted({s for r in reports for s in r.left_by_budget}),
                  spend_usd=round(sum(r.spend_usd for r in reports), 4), notes=[n for r in reports for n in r.notes])
