"""`python -m flowtui` is the same as the `flowtui` command."""

from flowtui.cli import main

raise SystemExit(main())
