"""Growing a scroll view's content without re-laying out the screen.

Textual re-lays out the whole screen when a widget's `virtual_size` changes (tens of
ms: every pane redrawn). A list or a message view whose own size does not depend on
its content only needs its scrollbars moved and itself repainted, unless a scrollbar
appears or goes (that changes the view's inner size).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView

__all__ = ["set_virtual_size"]


def set_virtual_size(view: ScrollView, size: Size) -> None:
    """Give `view` a new virtual size, with a screen layout only if a scrollbar comes
    or goes (or before the view has a size: then Textual's own way)."""
    if size == view.virtual_size:
        return
    if not view.is_mounted or not view.container_size:
        view.virtual_size = size
        return
    bars = (view.show_horizontal_scrollbar, view.show_vertical_scrollbar)
    view.set_reactive(ScrollView.virtual_size, size)
    view._scroll_update(size)
    now = (view.show_horizontal_scrollbar, view.show_vertical_scrollbar)
    view.refresh(layout=now != bars)
