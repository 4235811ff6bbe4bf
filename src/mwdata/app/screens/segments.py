"""Dashboard page: segments (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("segments")
