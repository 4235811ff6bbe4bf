"""Dashboard page: health (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("health")
