"""The ``xqgpt`` command line."""
