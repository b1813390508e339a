"""Workspace archives: export a whole workspace as JSON Lines in a zip and
import it into a new workspace, on this server or another (docs/archive.md)."""
