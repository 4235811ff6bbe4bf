"""Dashboard page: efficiency (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("efficiency")
