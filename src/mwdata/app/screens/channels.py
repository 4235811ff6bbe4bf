"""Dashboard page: channels (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("channels")
