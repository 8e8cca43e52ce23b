"""`python -m flowtui` is the same as the `flowtui` command."""

from flowtui.cli import main

if __name__ == "__main__":  # not when a worker process imports the main module again
    raise SystemExit(main())
