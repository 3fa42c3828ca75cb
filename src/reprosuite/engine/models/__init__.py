"""Models: ensembles of MLPs, transformers and 1-D CNNs, initialisation and width parametrisations."""
