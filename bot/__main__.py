"""`python -m bot` runs the `duta` command line."""

from bot.cli import main

raise SystemExit(main())
