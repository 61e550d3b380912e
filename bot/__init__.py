"""Duta: watches the news about Vietnam's foreign relations and tells the chats that follow it."""

__version__ = "0.1.0"
