"""The owner's dashboard served by qr-hub under ``/dashboard``: login (owner and read-only staff), today's takings
with a live feed, the terminals, the money (days against settlement, refunds, search, CSV/XLSX export).

``routes(hub)`` gives the routes to mount into the hub's app (and keeps the :class:`~hub.dashboard.web.Dashboard`
as ``hub.dashboard``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from hub.app import Hub


def routes(hub: Hub) -> list[BaseRoute]:
    """The dashboard's routes for ``hub`` (a :class:`hub.app.Hub`)."""
    from hub.dashboard.web import Dashboard

    dashboard = Dashboard(hub)
    hub.dashboard = dashboard
    return list(dashboard.routes())
