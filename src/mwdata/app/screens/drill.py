"""Dashboard page: drill-down, the rows behind a clicked number (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("drill")
