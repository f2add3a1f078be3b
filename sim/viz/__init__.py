"""The browser view of one run (the ``viz`` extra): `escalation viz`, or by hand
`solara run sim/viz/app.py`.

`model` builds the model from the page's controls, `figures` draws it, `app` is the Solara page and
`server` serves it without internet. Only `app` and `server` need Solara.
"""
