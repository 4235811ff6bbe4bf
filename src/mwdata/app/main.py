"""Streamlit entry point of the mwdata dashboard (`mwdata dashboard` runs `streamlit run` on this file).

The global filters are drawn here, before the selected page runs, so they persist across pages.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from mwdata.app import ui
from mwdata.app.views import PAGES

st.set_page_config(page_title="mwdata dashboard", page_icon=":material/insights:", layout="wide")

HERE = Path(__file__).parent
ctx = ui.init()
if ctx is None:
    st.stop()
else:
    pages = [
        st.Page(
            str(HERE / "screens" / f"{key}.py"),
            title=title,
            icon=icon,
            default=(key == "overview"),
            visibility="hidden" if key == "drill" else "visible",  # reached by clicking a number
        )
        for key, (title, icon, _) in PAGES.items()
    ]
    current = st.navigation(pages)
    ui.tidy_url(current.url_path)
    current.run()
