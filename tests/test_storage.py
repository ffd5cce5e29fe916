"""What is particular to one store or to no store; the contract every store keeps is in
tests/test_store_contract.py."""

from __future__ import annotations

from factbot.storage import ChatKey, MemoryStore
from factbot.storage.base import ChatSettings, question_key

CHAT = ChatKey("telegram", "-100")
OTHER = ChatKey("discord", "42")


def test_question_key_ignores_case_spacing_and_punctuation() -> None:
    assert question_key("  Café,  K-POP?? ") == question_key("café k pop")
    assert question_key("한국 드라마?") == "한국 드라마"


async def test_the_memory_store_drops_a_chat_whose_settings_are_back_to_the_defaults() -> None:
    store = MemoryStore()
    await store.set_topic_enabled(CHAT, "trade", False)
    await store.set_cooldown(OTHER, 3, None)
    assert len(store.chats) == 2
    await store.set_topic_enabled(CHAT, "trade", True)
    await store.set_cooldown(OTHER, None, None)
    assert store.chats == {}
    assert await store.chat_settings(CHAT) == ChatSettings()

