"""``python -m capwrapper_simulator``."""

from capwrapper_simulator.cli import main

raise SystemExit(main())
