"""The business side of an order-approval execution: which order it is for, and how the order ended.

Read from what the console stores: the fields the sync records on the execution when they exist
(`order_id`, `customer_name`, `order_outcome`), else the execution's input, its result, and its `create_order`
step's result. An execution of another function has no order (`None`) and no outcome ("").
"""

from __future__ import annotations

from dataclasses import dataclass

from core.decoding import payload_value
from executions.attention import order_outcome, outcome_words
from executions.models import Execution, Operation


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    customer: str
    amount: str
    requested_by: str


def _text(value, limit: int = 200) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)[:limit]


def order_facts_from(*, execution: Execution, create_order_preview: str = "") -> OrderFacts | None:
    """An order's id, customer, amount and requester, from the execution's stored input, result and the
    `create_order` step's result preview (pure: no query)."""
    sources: list[dict] = []
    preview = payload_value(create_order_preview) if create_order_preview else None
    for source in (preview, execution.result, execution.input):
        if isinstance(source, dict):
            sources.append(source)

    def first(key: str) -> str:
        for source in sources:
            if source.get(key) not in (None, ""):
                return _text(source.get(key))
        return ""

    order_id = getattr(execution, "order_id", "") or first("orderId")
    customer = getattr(execution, "customer_name", "") or first("customerName")
    if not order_id and not customer:
        return None
    return OrderFacts(order_id=order_id, customer=customer, amount=first("amount"), requested_by=first("requestedBy"))


def create_order_previews(*, execution_ids: list[int]) -> dict[int, str]:
    """The `create_order` step's result preview of each execution (one query for a whole list)."""
    rows = Operation.objects.filter(execution_id__in=execution_ids, name="create_order", op_type="step").values_list(
        "execution_id", "result_preview"
    )
    return {execution_id: preview for execution_id, preview in rows if preview}


def execution_order_facts(*, execution: Execution) -> OrderFacts | None:
    return order_facts_from(
        execution=execution,
        create_order_preview=create_order_previews(execution_ids=[execution.pk]).get(execution.pk, ""),
    )


def execution_outcome(*, execution: Execution, facts: OrderFacts | None) -> str:
    return order_outcome(
        status=execution.status,
        result=execution.result,
        error_type=execution.error_type,
        stored=getattr(execution, "order_outcome", "") or "",
        is_order=facts is not None,
    )


def outcomes_annotate(rows: list[Execution]) -> None:
    """Attach `order` (OrderFacts or None), `outcome` and `outcome_words` to each execution of a list."""
    previews = create_order_previews(execution_ids=[row.pk for row in rows])
    for row in rows:
        row.order = order_facts_from(execution=row, create_order_preview=previews.get(row.pk, ""))
        row.outcome = execution_outcome(execution=row, facts=row.order)
        row.outcome_words = outcome_words(row.outcome)
