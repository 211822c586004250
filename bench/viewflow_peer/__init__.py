"""The peer: the bench's four-department flow in viewflow 2.4 (``pip install -e .[bench]``), for section 6.

A Django app of the bench only (never installed by the project's settings): ``settings.py`` adds it and viewflow to
the project's settings for the viewflow section's own process and database.
"""
