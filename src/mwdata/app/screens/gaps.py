"""Dashboard page: gaps (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("gaps")
