"""The message viewer's document: what the viewer shows, apart from how it is painted.

`MessageDocument` holds the shown flow's rows (built a piece at a time), its view mode
(auto, text, hex) and direction filter, the border's counts, the search and the freeing
of old rows. It imports no Textual: it reaches the widget that shows it only through the
small `Viewport` protocol (where the reader is, how big the view is, "scroll here",
"repaint"), so it is tested without an app (tests/ui/test_message_document.py) and the
widget (`flowtui.ui.widgets.message_view.MessageView`) only paints and scrolls.
"""

from flowtui.ui.message_document.counts import Counts
from flowtui.ui.message_document.document import MessageDocument
from flowtui.ui.message_document.reclaim import Reclaimer
from flowtui.ui.message_document.search import Search
from flowtui.ui.message_document.viewport import GUTTER, HEX_ROW_WIDTH, Viewport

__all__ = [
    "GUTTER",
    "HEX_ROW_WIDTH",
    "Counts",
    "MessageDocument",
    "Reclaimer",
    "Search",
    "Viewport",
]
