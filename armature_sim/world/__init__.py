"""The simulator's world: a seeded organization, its runs and MCP usage, and a clock that moves
only when told (by `advance`, or by the server's running clock before each request).

Every value comes from a `random.Random` seeded with the world seed plus a label, so the same
options give the same world byte for byte. Runs and sessions arrive as numbered arrivals
(`arrivals`); writes through the API change the world too (`edits`). Only small plans are
stored: a run's children and a session's events are derived on demand from their own seed.
"""

from armature_sim.world.world import World

__all__ = ["World"]
