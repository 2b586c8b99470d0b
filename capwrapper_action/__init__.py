"""capwrapper-action: build, wait for and deploy Capwrapper apps from GitHub Actions."""

__version__ = "0.1.0"
