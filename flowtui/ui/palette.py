"""The command palette's provider: every command of `ui.commands`, by title (ctrl+p).

Why a provider of our own: Textual's palette lists only its built-in entries; this one
lists every flowtui command with its current key and runs it through the app, exactly
as its key would.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from flowtui.ui.commands import COMMANDS, Command, keys_for

if TYPE_CHECKING:
    from flowtui.ui.app import FlowtuiApp

__all__ = ["CommandsProvider"]


class CommandsProvider(Provider):
    """Finds flowtui's commands by title; an empty query lists them all."""

    @property
    def _ft(self) -> FlowtuiApp:
        return cast("FlowtuiApp", self.app)

    def _help(self, command: Command) -> str:
        keys = keys_for(command.id, self._ft.config.keys)
        live = " (live flows)" if command.live_only else ""
        return f"{command.description}{live}" + (f" · {keys}" if keys else "")

    def _run(self, command: Command) -> None:
        self.app.call_later(self._ft.run_command, command.id)

    async def discover(self) -> Hits:
        for command in COMMANDS:
            yield DiscoveryHit(command.title, partial(self._run, command), help=self._help(command))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in COMMANDS:
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    partial(self._run, command),
                    text=command.title,
                    help=self._help(command),
                )
