"""Platform adapters: console, Telegram (python-telegram-bot) and Discord (discord.py).

Each adapter imports its platform library itself, lazily, so that the console
path never pays for the others.
"""
