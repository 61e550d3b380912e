"""Telegram: the only package that imports python-telegram-bot — handlers, rendering, sender."""
