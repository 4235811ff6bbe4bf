"""Dashboard page: feedback (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("feedback")
