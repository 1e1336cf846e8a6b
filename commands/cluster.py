"""`grantflow cluster ...`: prepare the Temporal cluster at GRANTFLOW_TEMPORAL_ADDRESS for grantflow."""

from __future__ import annotations

import typer

from client.cluster import register_search_attributes, type_name
from commands.common import out, run, settings
from infra.temporal import SEARCH_ATTRIBUTES, connect

cluster_app = typer.Typer(no_args_is_help=True, help="The Temporal cluster: register what grantflow's workflows use.")


@cluster_app.command("search-attributes")
def search_attributes() -> None:
    """Register the search attributes grantflow's workflows use in GRANTFLOW_NAMESPACE (operator service); those
    already there are left as they are."""
    async def go() -> list[str]:
        s = settings()
        client = await connect(s.temporal_address, s.namespace, s.temporal_access)
        return await register_search_attributes(client, s.namespace)

    added = run(go())
    for name, kind in SEARCH_ATTRIBUTES.items():
        out.print(f"{name} ({type_name(kind)}): {'registered' if name in added else 'already registered'}",
                  highlight=False)
