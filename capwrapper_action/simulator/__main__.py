"""``python -m capwrapper_action.simulator``."""

from capwrapper_action.simulator.cli import main

raise SystemExit(main())
