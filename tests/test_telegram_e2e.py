"""As a user sees it: the real bot and sender, run by the service, talking to the Bot API
emulator, over local copies of the seed sites."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.app import Runtime, build
from bot.service import Service
from bot.settings import FetchSettings, Settings
from bot.telegram.runner import run_telegram
from tests.emulator import Chat, Emulator, User
from tests.sites import SeedSites
from tests.test_cli_poll import write_sources

ALICE = User(4101, "Alice", language_code="en")
BUDI = User(4102, "Budi", language_code="id")


@dataclass
class Live:
    runtime: Runtime
    service: Service
    emulator: Emulator
    seed_sites: SeedSites

    async def poll(self, *names: str) -> None:
        sources = [s for s in self.seed_sites.sources() if s.name in names]
        await self.runtime.pipeline.poll(sources)

    async def say(self, chat: Chat, user: User, text: str, replies: int = 1) -> list[str]:
        """Send a command and return the texts of the bot's new replies in that chat."""
        before = len(self.emulator.bot_messages(chat.id))
        await asyncio.to_thread(self.emulator.send_command, chat, user, text)
        messages = await self.emulator.wait_for_bot_messages(chat.id, before + replies, 10)
        return [m["text"] for m in messages[before:]]

    async def alerts(self, chat: Chat, count: int) -> list[str]:
        """The texts the bot sent to `chat`, once there are at least `count`."""
        messages = await self.emulator.wait_for_bot_messages(chat.id, count, 15)
        return [m["text"] for m in messages]


@pytest.fixture
async def live(tmp_path: Path, emulator: Emulator, seed_sites: SeedSites) -> AsyncIterator[Live]:
    settings = replace(
        Settings(),
        database_url=f"sqlite:///{tmp_path / 'duta.db'}",
        sources_path=write_sources(tmp_path / "sources.yaml", seed_sites.sources()),
        telegram_token=emulator.token,
        telegram_api_url=emulator.api_url,
        extract_workers=0,
        fetch=FetchSettings(allow_private_networks=True, host_delay_s=0.0),
    )
    async with build(settings) as runtime:
        service = Service(runtime)
        telegram = asyncio.create_task(run_telegram(service, settings))
        await asyncio.sleep(0.5)  # the bot starts polling
        try:
            yield Live(runtime, service, emulator, seed_sites)
        finally:
            service.stopping.set()
            await asyncio.wait_for(telegram, 20)


async def test_start_subscribe_alert_once_per_story_and_digest(live: Live) -> None:
    chat = Chat.private(ALICE)
    welcome = await live.say(chat, ALICE, "/start")
    assert "Duta" in welcome[0]

    confirmation = await live.say(chat, ALICE, "/subscribe partner/jp instant")
    assert "Japan" in confirmation[0]
    sent_before = len(live.emulator.bot_messages(chat.id))

    await live.poll("baoquocte")  # a Japan interview, a Laos youth exchange, gold prices
    texts = await live.alerts(chat, sent_before + 1)
    await asyncio.sleep(2)  # anything else would have arrived by now
    alerts = live.emulator.bot_messages(chat.id)[sent_before:]
    assert len(alerts) == 1, [a["text"][:80] for a in alerts]
    assert "Nhật Bản" in texts[-1] or "Japan" in texts[-1]

    await live.poll("vietnamvn", "mirror")  # the same interview, translated and copied
    await asyncio.sleep(3)
    later = [m["text"][:300] for m in live.emulator.bot_messages(chat.id)[sent_before + 1 :]]
    assert not later, later

    digest = "\n".join(await live.say(chat, ALICE, "/digest 1d"))
    japan = [
        a for a in live.seed_sites.expected_articles() if a.story == "vn-japan-quang-ninh-interview"
    ]
    assert any(a.title in digest for a in japan), digest  # one entry for the story, any copy
    assert sum(a.title in digest for a in japan) == 1, digest
    assert "Giá vàng" not in digest  # unrelated gold prices are not in a Japan digest


async def test_group_member_cannot_subscribe_but_admin_can(live: Live) -> None:
    group = Chat.group(7700, "Hội hữu nghị")
    live.emulator.add_chat(group)
    live.emulator.set_member(group, BUDI, "member")
    refusal = await live.say(group, BUDI, "/subscribe partner/jp")
    assert "admin" in refusal[0].lower()
    assert live.runtime.store.subscriptions(group.id) == []

    live.emulator.set_member(group, ALICE, "administrator")
    await live.say(group, ALICE, "/subscribe partner/jp daily")
    subscriptions = live.runtime.store.subscriptions(group.id)
    assert [(s.topic, s.mode) for s in subscriptions] == [("partner/jp", "daily")]
