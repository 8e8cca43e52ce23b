"""The HTTP inspector's commands on the main screen: cycling a body's content view,
exporting the marked (or focused) flows to a file, and saving a body. Kept out of
`MainScreen` so that screen only composes and routes; the commands reach these through
`action_inspect(name, ...)`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual.widgets import TabbedContent

from flowtui.core import Flow, HTTPFlow
from flowtui.export import ExportError, describe, formats
from flowtui.export import applies as export_applies
from flowtui.export import export as export_flows
from flowtui.export import suffix as export_suffix
from flowtui.io import FlowWriteException, atomic_write
from flowtui.ui.screens.prompts import InputDialog
from flowtui.ui.session import plural
from flowtui.ui.widgets.detail_pane import DetailPane

if TYPE_CHECKING:
    from flowtui.ui.screens.main import MainScreen

__all__ = ["InspectAction", "InspectorActions"]

InspectAction = Literal["cycle_body_view", "export_flows", "save_body"]
"""What `MainScreen.action_inspect` runs."""


class InspectorActions:
    """The HTTP inspector's commands of one main screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        """The screen whose panes, store and dialogs these use."""

    def cycle_body_view(self) -> None:
        """Cycle the content view of the body shown (the Request or Response tab)."""
        pane = self.screen.active_side()
        if pane is None:
            detail = self.screen.query_one("#detail", TabbedContent)
            detail.active = "tab-response"
            pane = self.screen.query_one("#response", DetailPane)
        flow = pane.flow
        if not isinstance(flow, HTTPFlow):
            self.screen.say("Content views apply to HTTP bodies.", "warning")
            return
        self.screen.say(f"Body view: {pane.cycle_view()}")

    def export_targets(self) -> list[Flow]:
        """The marked flows (in order) when any are marked, else the focused one."""
        store = self.screen.ft.store
        if store.marked_count:
            keys = [k for k in store.keys_in_order() if store.summary_of(k).marked]
            return [f for f in (store.get(k) for k in keys) if f is not None]
        flow = self.screen.focused_flow()
        return [] if flow is None else [flow]

    def export_flows(self, fmt: str) -> None:
        """Ask for `FORMAT PATH` (the format prefilled when the command names one) and
        write the export of the marked flows, or of the focused one, there."""
        flows = self.export_targets()
        if not flows:
            return
        names = formats()
        if not fmt:
            fmt = next((f for f in names if any(export_applies(f, x) for x in flows)), "har")
        number = self.screen.ft.store.number(self.screen.ft.store.key_of(flows[0]) or flows[0].id)
        stem = f"flows-{len(flows)}" if len(flows) > 1 else f"flow-{number}"
        what = plural(len(flows), "marked flow") if len(flows) > 1 else f"flow #{number}"

        def parse(text: str) -> tuple[str, Path] | str:
            name, _, path = text.strip().partition(" ")
            if name not in names:
                return f"{name or 'nothing'}: not a format ({', '.join(names)})"
            if not any(export_applies(name, x) for x in flows):
                return f"{name} does not apply to {what} ({describe(name).needs})"
            if not path.strip():
                return "no path: FORMAT PATH"
            return name, Path(path.strip()).expanduser()

        def check(text: str) -> str | None:
            parsed = parse(text)
            return parsed if isinstance(parsed, str) else None

        def done(text: str | None) -> None:
            parsed = parse(text) if text else None
            if parsed is None or isinstance(parsed, str):
                return
            name, path = parsed
            self.screen.run_worker(
                lambda: self._write_export(flows, name, path, what),
                thread=True,
                group="export",
                name="export",
                exit_on_error=False,
            )

        hint = f"FORMAT PATH · formats: {' '.join(names)} · escape cancels"
        value = f"{fmt} {stem}{export_suffix(fmt)}"
        self.screen.app.push_screen(
            InputDialog(f"Export {what}", value, hint=hint, check=check), done
        )

    def _write_export(self, flows: list[Flow], name: str, path: Path, what: str) -> None:
        """Runs in a worker thread (a HAR of thousands of flows takes seconds): the
        export, written atomically as the CLI writes it."""
        say = self.screen.say
        app = self.screen.app
        try:
            data = export_flows(flows, name)
            atomic_write(path, lambda f: f.write(data))
        except (ExportError, FlowWriteException) as exc:
            app.call_from_thread(say, f"Export failed: {exc}", "error")
            return
        app.call_from_thread(say, f"Exported {what} as {name} to {path} ({len(data):,} bytes).")

    def save_body(self) -> None:
        """Save the body of the side shown (the response unless the Request tab is
        showing), decoded when its content encoding can be undone, to a file."""
        flow = self.screen.focused_flow()
        if flow is None:
            return
        if not isinstance(flow, HTTPFlow):
            self.screen.say("Only HTTP flows have bodies to save.", "warning")
            return
        pane = self.screen.active_side()
        side = pane.side if pane is not None else "response"
        message = flow.request if side == "request" else flow.response
        if message is None or message.raw_content is None:
            self.screen.say(f"The {side} has no body.", "warning")
            return
        body = message.get_content(strict=False) or b""
        number = self.screen.ft.store.number(self.screen.ft.store.key_of(flow) or flow.id)

        def check(text: str) -> str | None:
            if not text.strip():
                return "no path: escape cancels"
            parent = Path(text.strip()).expanduser().parent
            return None if parent.is_dir() else f"{parent}: no such directory"

        def done(text: str | None) -> None:
            if not text:
                return
            path = Path(text.strip()).expanduser()
            try:
                path.write_bytes(body)
            except OSError as exc:
                self.screen.say(f"Saving the body failed: {exc}", "error")
                return
            self.screen.say(f"Saved the {side} body ({len(body):,} bytes) to {path}.")

        self.screen.app.push_screen(
            InputDialog(
                f"Save the {side} body of flow #{number}",
                f"flow-{number}-{side}.bin",
                check=check,
                placeholder="path",
            ),
            done,
        )
