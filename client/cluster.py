"""Preparing a Temporal cluster's namespace for grantflow: the search attributes its workflows use."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client

from infra.temporal import SEARCH_ATTRIBUTES


def type_name(value: IndexedValueType.ValueType) -> str:
    """Keyword, Text, Int... as the Temporal CLI writes a search attribute's type."""
    return IndexedValueType.Name(value).removeprefix("INDEXED_VALUE_TYPE_").title().replace("_", "")


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Add, through the operator service, each search attribute that the namespace lacks; the names added. One that
    exists with another type is an error naming both types (the namespace's owner must resolve it)."""
    known = (await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace))).custom_attributes
    for name, wanted in SEARCH_ATTRIBUTES.items():
        if name in known and known[name] != wanted:
            raise ValueError(f"search attribute {name} exists in namespace {namespace} as {type_name(known[name])}; "
                             f"grantflow needs {type_name(wanted)}")
    missing = {name: wanted for name, wanted in SEARCH_ATTRIBUTES.items() if name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
    return sorted(missing)
