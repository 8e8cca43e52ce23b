"""The app's screens: the main view, the help screen and the modal dialogs."""
