"""The simulator's HTTP surface; `dialect` is how records go on the wire."""
