"""OneThing benchmarks (issue 8): ``make bench`` or ``python -m bench [--quick]``.

Five sections, each run in its own process against its own fresh PostgreSQL database, so one section's
caches and connections never flatter another's:

- ``lifecycle``: a whole case (open → accept → N departments decide → conclude) through the service layer,
  against the same BPMN run by bare SpiffWorkflow in memory, with a JSON save/restore between steps, and with
  that JSON in one PostgreSQL row; SQL statements per lifecycle (``bench/lifecycle.py``, ``bench/bare.py``);
- ``http``: the same lifecycle through the HTTP API under gunicorn with 1, 4 and 16 clients (``bench/http_api.py``);
- ``year``: a district's year of cases bulk-loaded, then the department inbox, the applicant's status lookup
  and the year's statistics as the dashboard computes them (``bench/year.py`` → ``workflow.selectors.statistics``);
- ``pdf``: the acceptance receipt rendered and sealed, cold and warm (``bench/documents.py``);
- ``state``: bytes of stored process state against departments and correction rounds (``bench/state.py``).

The bench may import SpiffWorkflow directly (for the bare baselines): it is outside the app's layers.
"""
