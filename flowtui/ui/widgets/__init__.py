"""The app's widgets: the flow list, the message viewer, the connection pane, the status bar."""
