"""Dashboard page: overview (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("overview")
