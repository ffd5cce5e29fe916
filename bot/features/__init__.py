"""Community features: each gets only what it needs (the store, the packs, the limiter),
declares its commands with ``@command`` and answers them from a small ``Context``.

``switches`` (/topics, and topics on or off per chat), ``daily`` (/daily and the daily
fact's scheduler), ``stats`` (/stats), ``cooldown`` (the limiter and /cooldown) and
``language`` (/language). Their words come from factbot.i18n's catalogues (``ctx.t``).
"""
