"""Datasets: loaders that normalise every set to `Record`, the training mix and its splits."""
