"""Every user action, declared once: its id, action, title, description and default keys.

Why one table: the key bindings, the command palette (`ui.palette`), the help screen
and the config file's ``[keys]`` section are all generated from (or checked against)
`COMMANDS`, so a new action is one `Command` here and an ``action_`` method on its
target, never another hand-written key list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding

__all__ = [
    "BY_ID",
    "COMMANDS",
    "STATE_SIGNS",
    "WHERE",
    "Command",
    "Target",
    "Where",
    "bindings",
    "keys_for",
]

Where = Literal["flow", "list", "messages", "app"]
"""Where a command applies: to the focused flow, to the flow list, in the message
viewer, or anywhere."""

Target = Literal["screen", "flow_list", "messages", "app"]
"""What runs the action: the main screen, the flow list widget, the message viewer or
the app."""

WHERE: dict[Where, str] = {
    "flow": "The focused flow",
    "list": "The flow list",
    "messages": "The message viewer",
    "app": "Anywhere",
}
"""Help headings for each place a command applies."""


@dataclass(frozen=True, slots=True)
class Command:
    """One user action."""

    id: str
    """Stable id (``flow.mark``): what the config's ``[keys]`` remaps."""
    action: str
    """The action its target runs: ``name`` calls ``action_name``; ``flow('kill')``
    calls ``action_flow('kill')``, which calls the flow control's ``kill``."""
    title: str
    """Short name (footer, palette)."""
    description: str
    """One line for the palette and the help screen."""
    keys: str
    """Default keys, comma-separated Textual key names ("" for palette only)."""
    where: Where
    """Where it applies."""
    target: Target = "screen"
    """What runs the action."""
    live_only: bool = False
    """Acts only on flows of a live proxy (refused, with a message, for files)."""
    show: bool = True
    """Shown in the footer."""
    key_display: str | None = None
    """How the first key is written when its name is not what users type (``?``)."""
    priority: bool = False
    """A priority binding (works even inside dialogs and inputs)."""

    def binding(self) -> Binding:
        """The Textual binding (unbound commands have none; see `bindings`)."""
        return Binding(
            self.keys,
            self.action,
            self.title,
            show=self.show,
            key_display=self.key_display,
            priority=self.priority,
            id=self.id,
        )


def _c(
    id: str, action: str, title: str, description: str, keys: str, where: Where, **kw: object
) -> Command:
    return Command(id, action, title, description, keys, where, **kw)  # type: ignore[arg-type]


COMMANDS: tuple[Command, ...] = (
    # -- the focused flow -------------------------------------------------------------
    _c("flow.mark", "mark", "Mark", "Toggle the focused flow's mark", "m", "flow"),
    _c(
        "flow.mark_with",
        "mark_with",
        "Mark with…",
        "Mark the focused flow with an emoji shortcode (:grapes:) or a character",
        "",
        "flow",
        show=False,
    ),
    _c(
        "flow.comment",
        "comment",
        "Comment",
        "Edit the focused flow's comment",
        "semicolon",
        "flow",
        key_display=";",
    ),
    _c(
        "flow.intercept",
        "flow('intercept')",
        "Intercept",
        "Intercept the focused flow",
        "i",
        "flow",
    ),
    _c(
        "flow.resume",
        "flow('resume')",
        "Resume",
        "Resume the focused intercepted flow",
        "a",
        "flow",
    ),
    _c(
        "flow.kill",
        "flow('kill')",
        "Kill",
        "Kill the focused flow's connection",
        "X",
        "flow",
        live_only=True,
    ),
    _c(
        "flow.revert",
        "flow('revert')",
        "Revert",
        "Undo every change to the focused flow",
        "V",
        "flow",
    ),
    _c("flow.delete", "delete", "Delete", "Delete the focused flow from the session", "d", "flow"),
    _c(
        "flow.duplicate",
        "duplicate",
        "Duplicate",
        "Copy the focused flow (the copy follows it)",
        "D",
        "flow",
        show=False,
    ),
    # -- steering: replay and the live intercept filter ---------------------------------
    _c(
        "flow.replay",
        "steer('replay', False)",
        "Replay",
        "Replay the focused finished flow as a new flow (TCP: to its server, as fast as "
        "possible; HTTP: through mitmproxy's client replay)",
        "r",
        "flow",
        show=False,
    ),
    _c(
        "flow.replay_timed",
        "steer('replay', True)",
        "Replay with timing",
        "Replay the focused finished TCP flow with the original gaps between messages",
        "",
        "flow",
        show=False,
    ),
    _c(
        "flow.inject",
        "steer('inject')",
        "Inject",
        "Send a new message to the client or the server of the focused live TCP or WebSocket flow",
        "J",
        "flow",
        live_only=True,
        show=False,
    ),
    _c(
        "flow.fetch",
        "steer('fetch')",
        "Fetch the missing part",
        "Read the focused incomplete flow whole from the proxy's -w file",
        "R",
        "flow",
        live_only=True,
        show=False,
    ),
    _c(
        "flow.fetch_all",
        "steer('fetch_all')",
        "Fetch every missing part",
        "Read every incomplete (or cut) finished flow whole from the proxy's -w file",
        "",
        "list",
        live_only=True,
        show=False,
    ),
    _c(
        "live.intercept_filter",
        "steer('intercept_filter')",
        "Intercept filter",
        "Hold the live flows matching a filter as they arrive (client: / server: one way)",
        "I",
        "list",
        live_only=True,
        show=False,
    ),
    # -- held messages: change the focused flow's held message before it is sent ---------
    _c(
        "flow.edit_held",
        "steer('edit_held')",
        "Edit held message",
        "Edit the focused flow's held message before it is sent (text with escapes, or hex)",
        "E",
        "flow",
        live_only=True,
        show=False,
    ),
    _c(
        "flow.drop_held",
        "steer('drop_held')",
        "Drop held message",
        "Drop the focused flow's held message: it never reaches the peer (V restores it)",
        "x",
        "flow",
        live_only=True,
        show=False,
    ),
    # -- the list ---------------------------------------------------------------------
    _c(
        "flow.resume_all",
        "all('resume_all')",
        "Resume all",
        "Resume every intercepted flow",
        "A",
        "list",
        show=False,
    ),
    _c(
        "flow.unmark_all",
        "all('unmark_all')",
        "Unmark all",
        "Remove the mark of every flow",
        "ctrl+u",
        "list",
        show=False,
    ),
    _c(
        "flow.undelete",
        "undelete",
        "Undo delete",
        "Put the last deleted flow back",
        "U",
        "list",
        show=False,
    ),
    _c(
        "view.filter",
        "view('set_filter')",
        "Filter",
        "Show only the flows matching a filter",
        "f",
        "list",
    ),
    _c(
        "view.follow",
        "view('follow')",
        "Follow",
        "Keep the newest flow in view (live)",
        "F",
        "list",
        show=False,
    ),
    _c(
        "view.clear",
        "view('clear_view')",
        "Clear",
        "Remove every flow from the session (asks first)",
        "z",
        "list",
        show=False,
    ),
    _c(
        "view.order",
        "view('order')",
        "Order",
        "Order the list by number, time, size, duration, server or type",
        "o",
        "list",
        show=False,
    ),
    _c(
        "view.reverse",
        "view('reverse')",
        "Reverse",
        "Reverse the list's order",
        "v",
        "list",
        show=False,
    ),
    _c(
        "view.marked_only",
        "view('marked_only')",
        "Marked only",
        "Show only the marked flows (again: show all)",
        "M",
        "list",
        show=False,
    ),
    _c(
        "view.detail",
        "open_detail",
        "Detail",
        "Open the focused flow's detail full screen",
        "enter",
        "list",
        show=False,
    ),
    _c(
        "list.up",
        "cursor_up",
        "Previous flow",
        "Move up the list",
        "up,k",
        "list",
        target="flow_list",
        show=False,
    ),
    _c(
        "list.down",
        "cursor_down",
        "Next flow",
        "Move down the list",
        "down,j",
        "list",
        target="flow_list",
        show=False,
    ),
    _c(
        "list.page_up",
        "page_up",
        "Flows page up",
        "A page of flows up",
        "pageup",
        "list",
        target="flow_list",
        show=False,
    ),
    _c(
        "list.page_down",
        "page_down",
        "Flows page down",
        "A page of flows down",
        "pagedown,space",
        "list",
        target="flow_list",
        show=False,
    ),
    _c(
        "list.first",
        "first",
        "First flow",
        "Go to the first flow",
        "home,g",
        "list",
        target="flow_list",
        show=False,
    ),
    _c(
        "list.last",
        "last",
        "Last flow",
        "Go to the last flow",
        "end,G",
        "list",
        target="flow_list",
        show=False,
    ),
    # -- the HTTP inspector: content views, export, saving a body -----------------------
    _c(
        "detail.view",
        "inspect('cycle_body_view')",
        "Body view",
        "Request/Response body: next content view (auto, text, hex, json, xml, html…)",
        "b",
        "flow",
        show=False,
    ),
    _c(
        "export.flow",
        "inspect('export_flows', '')",
        "Export",
        "Export the marked flows, or the focused one (HAR, curl, HTTPie, raw, pcap…)",
        "e",
        "flow",
        show=False,
    ),
    _c(
        "export.har",
        "inspect('export_flows', 'har')",
        "Export HAR",
        "Export the marked flows, or the focused one, as HAR 1.2",
        "",
        "flow",
        show=False,
    ),
    _c(
        "export.curl",
        "inspect('export_flows', 'curl')",
        "Export curl",
        "Export the focused (or marked) HTTP requests as curl commands",
        "",
        "flow",
        show=False,
    ),
    _c(
        "export.httpie",
        "inspect('export_flows', 'httpie')",
        "Export HTTPie",
        "Export the focused (or marked) HTTP requests as HTTPie commands",
        "",
        "flow",
        show=False,
    ),
    _c(
        "export.raw",
        "inspect('export_flows', 'raw')",
        "Export raw",
        "Export the focused HTTP flow as raw request and response",
        "",
        "flow",
        show=False,
    ),
    _c(
        "export.pcap",
        "inspect('export_flows', 'pcap')",
        "Export pcap",
        "Export the focused (or marked) TCP/UDP flows as a pcap for Wireshark",
        "",
        "flow",
        show=False,
    ),
    _c(
        "export.hexdump",
        "inspect('export_flows', 'hexdump')",
        "Export hex dump",
        "Export the focused (or marked) TCP/UDP streams as a hex dump",
        "",
        "flow",
        show=False,
    ),
    _c(
        "body.save",
        "inspect('save_body')",
        "Save body",
        "Save the shown request or response body (decoded) to a file",
        "W",
        "flow",
        show=False,
    ),
    # -- the message viewer -------------------------------------------------------------
    _c(
        "messages.view",
        "cycle_view",
        "Text/hex",
        "Messages: auto / text / hex",
        "h",
        "messages",
        target="messages",
    ),
    _c(
        "messages.direction",
        "cycle_direction",
        "Direction",
        "Messages: both directions / client only / server only",
        "c",
        "messages",
        target="messages",
    ),
    _c(
        "messages.search",
        "search",
        "Search",
        "Search the messages",
        "slash",
        "messages",
        target="messages",
    ),
    _c(
        "messages.next_match",
        "next_match",
        "Next match",
        "Go to the next search match",
        "n",
        "messages",
        target="messages",
    ),
    _c(
        "messages.previous_match",
        "previous_match",
        "Prev match",
        "Go to the previous search match",
        "N",
        "messages",
        target="messages",
    ),
    _c(
        "messages.up",
        "scroll_up",
        "Scroll messages up",
        "Scroll the messages up",
        "up",
        "messages",
        target="messages",
        show=False,
    ),
    _c(
        "messages.down",
        "scroll_down",
        "Scroll messages down",
        "Scroll the messages down",
        "down",
        "messages",
        target="messages",
        show=False,
    ),
    _c(
        "messages.page_up",
        "page_up",
        "Messages page up",
        "Scroll the messages a page up",
        "pageup",
        "messages",
        target="messages",
        show=False,
    ),
    _c(
        "messages.page_down",
        "page_down",
        "Messages page down",
        "Scroll the messages a page down",
        "pagedown",
        "messages",
        target="messages",
        show=False,
    ),
    _c(
        "messages.top",
        "scroll_home",
        "First message",
        "Go to the first message",
        "home",
        "messages",
        target="messages",
        show=False,
    ),
    _c(
        "messages.bottom",
        "scroll_end",
        "Last message",
        "Go to the last message",
        "end",
        "messages",
        target="messages",
        show=False,
    ),
    # -- files and the app -------------------------------------------------------------
    _c("file.save", "save", "Save", "Save the shown, marked or all flows to a file", "w", "app"),
    _c(
        "file.load",
        "view('load_file')",
        "Load",
        "Load another capture into the session",
        "L",
        "app",
        show=False,
    ),
    _c("app.back", "back", "Quit", "Back to the list, or quit from it", "q", "app"),
    _c(
        "app.help",
        "help",
        "Help",
        "Every key, command and filter operator",
        "question_mark",
        "app",
        key_display="?",
    ),
    _c(
        "app.quit",
        "quit",
        "Quit now",
        "Quit (asks first when there are unsaved changes)",
        "ctrl+q",
        "app",
        target="app",
        show=False,
        priority=True,
    ),
)
"""Every command, in help order."""

BY_ID: dict[str, Command] = {c.id: c for c in COMMANDS}
"""The commands by id."""


def keys_for(command_id: str, keymap: dict[str, str]) -> str:
    """The keys that run a command now: the keymap's, else its defaults as shown."""
    command = BY_ID[command_id]
    keys = keymap.get(command_id, command.keys)
    if keys == command.keys and command.key_display:
        return command.key_display
    return keys


def bindings(target: Target) -> list[Binding]:
    """The bindings of every command `target` runs that has default keys."""
    return [c.binding() for c in COMMANDS if c.target == target and c.keys]


STATE_SIGNS: list[tuple[str, str]] = [
    ("●", "marked (or the mark's emoji / character, e.g. 🍇 for :grapes:)"),
    ("⏸", "intercepted: paused until resumed (a / A)"),
    ("✗", "killed"),
    ("!", "error (see the Connection tab)"),
    ("✎", "modified since loading (V reverts)"),
    ("◉", "live: the connection is still open"),
    ("↻", "a replay (r), listed after the flow it replays"),
]
"""The state signs in the flow list's last column, with their meaning (help legend)."""
