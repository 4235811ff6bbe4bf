"""Dashboard page: knowledge (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("knowledge")
