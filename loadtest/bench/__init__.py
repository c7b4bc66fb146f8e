"""Benchmarks of this service, run by hand: `make bench` (`serving`: the server's cost over the
raw model) and `make bench-long` (`long_inputs`: how each long-input policy copes with buried
harmful text). Outside `service/`, so that they never ship in the serving image."""
