"""The ``chanjiao`` command line."""
