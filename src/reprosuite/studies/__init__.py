"""One module per study, found by :func:`reprosuite.study.discover`; see :mod:`reprosuite.study`."""
