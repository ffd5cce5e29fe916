"""The curator's dashboard: what members ask, what gets no answer, and whether an edit helped.

``factbot dashboard`` serves it (app.py); the logic lives beside the web layer, in plain
functions: grouping.py (unanswered questions into rewordings, suggestions), charts.py
(inline SVG), views.py (the pages' data from the store and the packs).
"""
