"""``banshi eval dialogue``: the whole conversation path measured through a running stack's chat API.

cases (the cases file) → citizen (plays each case, deciding from outcomes only) → scoring (verdicts and
figures) → report (HTML); runner ties them together for the command.
"""
