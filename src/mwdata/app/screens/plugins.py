"""Dashboard page: plugins (drawn by mwdata.app.views)."""

from mwdata.app.views import render

render("plugins")
