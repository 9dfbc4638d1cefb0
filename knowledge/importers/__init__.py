"""Catalogue import: read any supported source into ``MatterIn`` rows, then store them.

The public surface is ``read_source`` (for dry runs and previews) and ``import_path``.
Each bad row becomes a ``RowError`` that names the file, the row and the field; the good rows
still import.
"""

from knowledge.importers.base import ImportReport, RowError, SourceRow
from knowledge.importers.runner import import_path, read_source

__all__ = ["ImportReport", "RowError", "SourceRow", "import_path", "read_source"]
