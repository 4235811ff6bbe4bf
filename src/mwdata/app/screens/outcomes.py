"""Dashboard page: outcomes (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("outcomes")
