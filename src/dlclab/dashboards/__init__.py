"""Helpers of the Voilà dashboards (``notebooks/dashboards``): which releases the person
looking at a dashboard may read (:mod:`.releases`), and how a dashboard says in words what
is missing and the command that provides it (:mod:`.hints`)."""
