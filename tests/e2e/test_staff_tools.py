"""Officials find their tools: their own command menu, set per person (issue 15, item 8)."""

from __future__ import annotations

from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, onboard


async def test_each_staff_member_gets_the_command_menu_of_their_role(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    admin = fake.user(6001, "Maire")
    await palabre.start(ADMIN_IDS="6001")
    await onboard(admin)
    await palabre.processes[0].restart()  # menus are set at start, for everyone known by then
    await fake.wait_request("setMyCommands", count=4, timeout=30)
    french = [c["command"] for c in fake.commands[("default", "fr")]]
    assert "signaler" in french and "aide" in french and "report" not in french and "grant" not in french
    mine = [c["command"] for c in fake.commands[(f"chat:{admin.chat_id}", "")]]
    assert "grant" in mine and "newconsultation" in mine and "stats" in mine
