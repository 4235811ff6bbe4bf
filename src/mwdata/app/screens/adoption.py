"""Dashboard page: adoption (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("adoption")
