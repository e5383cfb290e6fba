"""The officials' web back office: server-rendered pages over the same domain as the chat."""

from __future__ import annotations

from web.backoffice.routes import BackofficeContext, add_backoffice_routes

__all__ = ["BackofficeContext", "add_backoffice_routes"]
