"""Matching, in small parts: ``index`` (built once, immutable), ``analysis`` (text to
query), ``rules`` (answer shapes and constraints), ``scoring`` (facts ranked), and
``commands`` (command names and autocomplete). ``bot.matcher.Matcher`` is the front.
"""
