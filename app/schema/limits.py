"""Query cost analysis: a connection costs its page size times what each node selects (STYLE).

Strawberry limits depth, tokens and aliases; it has no cost analysis. This rule
walks the operation against the schema: every object field costs 1 plus its
selection's cost, multiplied by ``first`` for a connection (by the largest page
when ``first`` is a variable, by the default page when absent) and by an assumed
size for an unpaged list.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from app.schema.relay import DEFAULT_PAGE, MAX_PAGE

UNPAGED_LIST_SIZE = 20


def _page_size(field: FieldNode) -> int:
    for arg in field.arguments or ():
        if arg.name.value == "first":
            if isinstance(arg.value, IntValueNode):
                return max(int(arg.value.value), 0)
            return MAX_PAGE
    return DEFAULT_PAGE


def make_cost_rule(max_cost: int) -> type[ValidationRule]:
    """A validation rule that refuses operations estimated to cost more than ``max_cost``."""

    class CostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = schema.get_root_type(node.operation)
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            cost = self._cost(node.selection_set, root, fragments, frozenset())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query too expensive: estimated cost {cost} exceeds {max_cost};"
                        " ask for smaller pages or fewer nested lists",
                        node,
                    )
                )

        def _cost(
            self,
            selection_set: SelectionSetNode | None,
            parent: Any,
            fragments: dict[str, FragmentDefinitionNode],
            seen: frozenset[str],
        ) -> int:
            if selection_set is None or parent is None:
                return 0
            total = 0
            for sel in selection_set.selections:
                if isinstance(sel, FieldNode):
                    field_def = getattr(parent, "fields", {}).get(sel.name.value)
                    if field_def is None or sel.selection_set is None:
                        continue
                    named = get_named_type(field_def.type)
                    inner = self._cost(sel.selection_set, named, fragments, seen)
                    if named.name.endswith("Connection"):
                        multiplier = _page_size(sel)
                    elif parent.name.endswith("Connection") and sel.name.value == "edges":
                        multiplier = 1
                    elif is_list_type(get_nullable_type(field_def.type)):
                        multiplier = UNPAGED_LIST_SIZE
                    else:
                        multiplier = 1
                    total += 1 + multiplier * inner
                elif isinstance(sel, InlineFragmentNode):
                    cond = sel.type_condition
                    target = self.context.schema.get_type(cond.name.value) if cond else parent
                    total += self._cost(sel.selection_set, target, fragments, seen)
                elif isinstance(sel, FragmentSpreadNode):
                    name = sel.name.value
                    fragment = fragments.get(name)
                    if fragment is None or name in seen:
                        continue
                    target = self.context.schema.get_type(fragment.type_condition.name.value)
                    total += self._cost(fragment.selection_set, target, fragments, seen | {name})
            return total

    return CostRule
