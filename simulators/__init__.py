"""simulators.

Numeric engines under the planner; they take arrays and plain numbers and know nothing of request
schemas. The pool replay runs a labeling policy for real on a labeled data set with scikit-learn:
``simulators.replay`` (policies and bookkeeping), ``simulators.query_strategies`` (query strategies),
``simulators.costs`` (the rate card), ``simulators.pilot`` (random pilot rounds) and
``simulators.datasets`` (loading ``.npz`` and CSV data sets).
"""
