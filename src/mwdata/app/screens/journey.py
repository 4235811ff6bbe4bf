"""Dashboard page: journey (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("journey")
